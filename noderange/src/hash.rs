//! Hash maps with a fast, well-distributed hasher (foldhash). Node names share long
//! prefixes (`node000001`, `node000002`, …), which weak hashers cluster badly.

pub(crate) type FxHashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;
pub(crate) type FxHashSet<K> = std::collections::HashSet<K, foldhash::fast::FixedState>;

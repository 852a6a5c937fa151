//! The evaluator: xCAT's `noderange()` and `expandatom()` (spec algorithms N and E).
//!
//! The code follows the structure of `NodeRange.pm` closely, because the language is
//! defined by that structure (which rule sees an element first, which call keeps or
//! clears the list of unknown names, where `site.excludenodes` is applied, how the
//! recursion counter moves). Comments name the Perl statement each step reproduces.

use std::cell::RefCell;

use crate::hash::{FxHashMap, FxHashSet};

use crate::attr;
use crate::nodeset::NodeSet;
use crate::perl;
use crate::regex::PerlRegex;
use crate::source::{GroupDef, NodeSource};
use crate::Error;

/// One element of a result: a defined node (its position in `nodelist`) or any other name
/// (returned literally in noverify/generic mode). A name that is a node is always a `Node`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Item {
    Node(u32),
    Name(String),
}

/// A set of results (Perl's `%nodes` hash): defined nodes as a bit set over their ids
/// (allocated on first use), other names in a hash set.
#[derive(Debug, Default)]
struct Set {
    words: usize,
    bits: Vec<u64>,
    names: FxHashSet<String>,
}

impl Set {
    fn new(words: usize) -> Set {
        Set {
            words,
            ..Set::default()
        }
    }

    fn from_items(items: Vec<Item>, words: usize) -> Set {
        let mut s = Set::new(words);
        s.extend(items);
        s
    }

    fn insert_node(&mut self, id: u32) {
        if self.bits.is_empty() {
            self.bits = vec![0; self.words];
        }
        self.bits[(id / 64) as usize] |= 1u64 << (id % 64);
    }

    fn extend(&mut self, items: impl IntoIterator<Item = Item>) {
        for it in items {
            match it {
                Item::Node(i) => self.insert_node(i),
                Item::Name(n) => {
                    self.names.insert(n);
                }
            }
        }
    }

    fn union(&mut self, other: Set) {
        if self.bits.is_empty() {
            self.bits = other.bits;
        } else if !other.bits.is_empty() {
            for (a, b) in self.bits.iter_mut().zip(&other.bits) {
                *a |= *b;
            }
        }
        if self.names.is_empty() {
            self.names = other.names;
        } else {
            self.names.extend(other.names);
        }
    }

    fn retain_in(&mut self, other: &Set) {
        if other.bits.is_empty() {
            self.bits.clear();
        } else if !self.bits.is_empty() {
            for (a, b) in self.bits.iter_mut().zip(&other.bits) {
                *a &= *b;
            }
        }
        self.names.retain(|n| other.names.contains(n));
    }

    fn subtract(&mut self, other: &Set) {
        if !self.bits.is_empty() && !other.bits.is_empty() {
            for (a, b) in self.bits.iter_mut().zip(&other.bits) {
                *a &= !*b;
            }
        }
        if !other.names.is_empty() {
            self.names.retain(|n| !other.names.contains(n));
        }
    }

    /// Node ids in increasing order (= byte-wise order of the names).
    fn node_ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.bits.iter().enumerate().flat_map(|(w, &word)| {
            let mut word = word;
            std::iter::from_fn(move || {
                if word == 0 {
                    return None;
                }
                let b = word.trailing_zeros();
                word &= word - 1;
                Some(w as u32 * 64 + b)
            })
        })
    }

    fn into_items(self) -> impl Iterator<Item = Item> {
        let ids: Vec<u32> = self.node_ids().collect();
        ids.into_iter()
            .map(Item::Node)
            .chain(self.names.into_iter().map(Item::Name))
    }
}

/// xCAT dies when more than this many nested expansions are active.
const XCAT_RECURSION_LIMIT: u64 = 4096;

/// Resource limits that replace xCAT's unbounded behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most names that ranges, brackets (each piece) and `+` increments may generate in
    /// one evaluation (default 10 000 000). xCAT has no such limit and runs out of memory.
    pub max_names: u64,
    /// The deepest nesting of evaluation calls (parentheses, `@` elements, group and range
    /// expansion, `^file` lines) before evaluation stops with [`Error::TooDeep`]
    /// (default 10 000; xCAT's own recursion guard at 4096 usually fires first).
    pub max_depth: usize,
    /// How much text the evaluation may scan and build, in bytes (default 16 MiB): the
    /// text of every nested (sub)noderange plus what bracket expansions build. Deeply nested
    /// long texts take quadratic time and some malformed brackets (`[00-0]b[1-2]`) grow or
    /// branch at every step in xCAT until memory or patience runs out.
    pub max_text: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_names: 10_000_000,
            max_depth: 10_000,
            max_text: 16 << 20,
        }
    }
}

impl Limits {
    /// The defaults, with `max_names` taken from the `NODERANGE_MAX_NAMES` environment
    /// variable when it holds a positive integer.
    pub fn from_env() -> Self {
        let mut l = Limits::default();
        if let Some(n) = std::env::var("NODERANGE_MAX_NAMES")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|n| *n > 0)
        {
            l.max_names = n;
        }
        l
    }
}

/// How to evaluate a noderange: xCAT's `verify` argument, its `genericrange` option, its
/// third argument (`site.excludenodes`), the `XCAT_NODE_PREFIX`/`XCAT_NODE_SUFFIX` used
/// for all-digit elements, and the [`Limits`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Names that are not defined nodes are recorded as missing (`true`, the default, as for
    /// nearly every xCAT command) or returned literally (`false`, as `nodeadd`/`mkdef -o`).
    pub verify: bool,
    /// Purely syntactic expansion: no node or group lookup (xCAT's `genericrange`).
    pub generic: bool,
    /// Subtract `site.excludenodes` from the result (xCAT's default).
    pub exclude_site: bool,
    /// Prefix of the all-digit shorthand (`5` = `node5`): `XCAT_NODE_PREFIX`, else `node`.
    pub node_prefix: String,
    /// Suffix of the all-digit shorthand: `XCAT_NODE_SUFFIX`, else empty.
    pub node_suffix: String,
    /// Size and depth limits.
    pub limits: Limits,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            verify: true,
            generic: false,
            exclude_site: true,
            node_prefix: "node".to_string(),
            node_suffix: String::new(),
            limits: Limits::default(),
        }
    }
}

impl Options {
    /// xCAT's default: verify names, honour `site.excludenodes`.
    pub fn verify() -> Self {
        Options::default()
    }

    /// xCAT's `noderange($range, 0)`: unknown names are returned literally (as when nodes
    /// are being defined); groups, regexes and attributes still evaluate.
    pub fn noverify() -> Self {
        Options {
            verify: false,
            ..Options::default()
        }
    }

    /// xCAT's `genericrange`: pure syntax, no lookups, no `site.excludenodes`.
    pub fn generic() -> Self {
        Options {
            verify: false,
            generic: true,
            exclude_site: false,
            ..Options::default()
        }
    }

    /// Takes `XCAT_NODE_PREFIX`, `XCAT_NODE_SUFFIX` and `NODERANGE_MAX_NAMES` from the
    /// environment (xCAT reads the two `XCAT_` variables in the expanding process).
    pub fn with_env(mut self) -> Self {
        if let Ok(p) = std::env::var("XCAT_NODE_PREFIX") {
            self.node_prefix = p;
        }
        if let Ok(s) = std::env::var("XCAT_NODE_SUFFIX") {
            self.node_suffix = s;
        }
        self.limits.max_names = Limits::from_env().max_names;
        self
    }
}

/// The result of evaluating a noderange: the nodes, and the names that could not be
/// resolved, in the order they were met (xCAT's `nodesmissed()`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expansion {
    /// The nodes, sorted byte-wise, without duplicates.
    pub nodes: NodeSet,
    /// Unknown names in encounter order (possibly with repetitions, as xCAT reports them).
    pub missing: Vec<String>,
}

impl Expansion {
    /// What xcatd does with an expansion: refuse it when any name was unknown.
    ///
    /// ```
    /// use noderange::{Evaluator, MemorySource, Options, Error};
    /// let c = MemorySource::new().node("node1", "all");
    /// let e = Evaluator::new(&c).expand("node1,node2,foo", &Options::default()).unwrap();
    /// assert_eq!(
    ///     e.into_result().unwrap_err().to_string(),
    ///     "Invalid nodes and/or groups in noderange: node2,foo"
    /// );
    /// ```
    pub fn into_result(self) -> Result<NodeSet, Error> {
        if self.missing.is_empty() {
            Ok(self.nodes)
        } else {
            Err(Error::InvalidNodes(self.missing))
        }
    }
}

/// Evaluates noderanges against a [`NodeSource`].
///
/// Building an evaluator reads `nodelist` and `nodegroup` once and indexes them (what
/// `NodeRange.pm` caches per request); each [`expand`](Evaluator::expand) then evaluates
/// one noderange against that snapshot.
///
/// ```
/// use noderange::{Evaluator, MemorySource, Options};
/// let c = MemorySource::new()
///     .node("node1", "compute,rack1")
///     .node("node2", "compute,rack1,storage")
///     .node("node3", "compute,storage")
///     .node("node10", "compute");
/// let ev = Evaluator::new(&c);
/// let o = Options::default();
/// assert_eq!(ev.expand("compute", &o).unwrap().nodes.to_vec(), ["node1", "node10", "node2", "node3"]);
/// assert_eq!(ev.expand("rack1@storage", &o).unwrap().nodes.to_vec(), ["node2"]);
/// assert_eq!(ev.expand("node1-node3,-storage", &o).unwrap().nodes.to_vec(), ["node1"]);
/// assert_eq!(ev.expand("/node1.*", &o).unwrap().nodes.to_vec(), ["node1", "node10"]);
/// ```
pub struct Evaluator<'s> {
    source: &'s dyn NodeSource,
    /// `@allnodeset`: the distinct node names, sorted byte-wise; a node's id is its
    /// position here, so sets of ids iterate in xCAT's output order.
    names: Vec<String>,
    /// `%allnodehash`: name → id.
    index: FxHashMap<String, u32>,
    /// Words of a bit set over all ids.
    words: usize,
    /// `%allgrphash`: group → member ids, in `nodelist` order.
    members: FxHashMap<String, Vec<u32>>,
    /// `@grplist`.
    nodegroups: Vec<GroupDef>,
    /// Group names that have a `nodegroup` row.
    defined_groups: FxHashSet<String>,
    /// The first `dynamic` row of each name.
    dynamic: FxHashMap<String, usize>,
    /// Nodes by (text before, text after) one of their numbers, for ranges.
    patterns: std::cell::OnceCell<Patterns>,
    /// Members of dynamic groups, computed once per evaluator.
    dynamic_cache: RefCell<FxHashMap<String, Vec<u32>>>,
}

impl std::fmt::Debug for Evaluator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evaluator")
            .field("nodes", &self.names.len())
            .field("groups", &self.members.len())
            .field("nodegroups", &self.nodegroups.len())
            .finish()
    }
}

impl<'s> Evaluator<'s> {
    /// Reads and indexes `nodelist` and `nodegroup` from `source`.
    pub fn new<S: NodeSource>(source: &'s S) -> Self {
        let rows = source.nodelist();
        let mut names: Vec<String> = rows.iter().map(|(n, _)| n.clone()).collect();
        names.sort_unstable();
        names.dedup();
        let mut index = FxHashMap::default();
        index.reserve(names.len());
        for (i, n) in names.iter().enumerate() {
            index.insert(n.clone(), i as u32);
        }
        let mut members: FxHashMap<String, Vec<u32>> = FxHashMap::default();
        for (node, groups) in &rows {
            let id = index[node.as_str()];
            if let Some(groups) = groups.as_deref() {
                // split(/,/, $nlent->{groups}): trailing empty fields dropped.
                let groups = groups.trim_end_matches(',');
                if !groups.is_empty() {
                    for g in groups.split(',') {
                        match members.get_mut(g) {
                            Some(m) => m.push(id),
                            None => {
                                members.insert(g.to_string(), vec![id]);
                            }
                        }
                    }
                }
            }
        }
        let nodegroups = source.nodegroups();
        let mut defined_groups = FxHashSet::default();
        let mut dynamic = FxHashMap::default();
        for (i, g) in nodegroups.iter().enumerate() {
            defined_groups.insert(g.name.clone());
            if g.grouptype.as_deref() == Some("dynamic") {
                dynamic.entry(g.name.clone()).or_insert(i);
            }
        }
        Evaluator {
            source,
            words: names.len().div_ceil(64),
            names,
            index,
            members,
            nodegroups,
            defined_groups,
            dynamic,
            dynamic_cache: RefCell::new(FxHashMap::default()),
            patterns: std::cell::OnceCell::new(),
        }
    }

    /// The source this evaluator reads.
    pub fn source(&self) -> &'s dyn NodeSource {
        self.source
    }

    /// All nodes of `nodelist`, sorted byte-wise, without duplicates.
    pub fn all_nodes(&self) -> &[String] {
        &self.names
    }

    /// Is `name` a defined node?
    pub fn is_node(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// The static members of `group` (nodes whose `nodelist.groups` names it), in
    /// `nodelist` order (a node listed twice appears twice).
    pub fn group_members(&self, group: &str) -> Vec<&str> {
        self.members
            .get(group)
            .map(|m| m.iter().map(|&i| self.names[i as usize].as_str()).collect())
            .unwrap_or_default()
    }

    /// Evaluates `range` with xCAT's semantics. Unknown names do not make this fail: they
    /// are returned in [`Expansion::missing`]; use [`Expansion::into_result`] (or
    /// [`Evaluator::nodes`]) to refuse them as xcatd does.
    pub fn expand(&self, range: &str, options: &Options) -> Result<Expansion, Error> {
        let mut run = Run {
            ev: self,
            opts: options,
            missing: Vec::new(),
            level: 0,
            depth: 0,
            budget: options.limits.max_names,
            text_budget: options.limits.max_text,
            regexes: FxHashMap::default(),
        };
        let set = run.noderange(
            range,
            options.verify,
            options.exclude_site,
            options.generic,
            false,
        )?;
        Ok(Expansion {
            nodes: self.to_nodeset(set),
            missing: run.missing,
        })
    }

    /// Evaluates `range` and refuses unknown names, as xcatd does before running a command
    /// (`Invalid nodes and/or groups in noderange: …`).
    pub fn nodes(&self, range: &str, options: &Options) -> Result<NodeSet, Error> {
        self.expand(range, options)?.into_result()
    }

    /// Sorted names of a result set: node ids are already in byte-wise order; merge them
    /// with the other (literal) names.
    fn to_nodeset(&self, set: Set) -> NodeSet {
        let mut lit: Vec<String> = set.names.iter().cloned().collect();
        lit.sort_unstable();
        let mut out = Vec::with_capacity(lit.len() + 64);
        let mut lit = lit.into_iter().peekable();
        for i in set.node_ids() {
            let n = &self.names[i as usize];
            while let Some(l) = lit.next_if(|l| l < n) {
                out.push(l);
            }
            out.push(n.clone());
        }
        out.extend(lit);
        NodeSet::from_sorted(out)
    }

    /// The item for a name: a node if it is one.
    fn item(&self, name: &str) -> Item {
        match self.index.get(name) {
            Some(&i) => Item::Node(i),
            None => Item::Name(name.to_string()),
        }
    }

    fn dynamic_members(&self, row: usize, run: &mut Run<'_, '_>) -> Result<Vec<u32>, Error> {
        let name = &self.nodegroups[row].name;
        if let Some(m) = self.dynamic_cache.borrow().get(name) {
            return Ok(m.clone());
        }
        let wherevals = self.nodegroups[row].wherevals.clone().unwrap_or_default();
        let m = attr::dynamic_group_members(self, &wherevals, &mut run.regexes)?;
        self.dynamic_cache
            .borrow_mut()
            .insert(name.clone(), m.clone());
        Ok(m)
    }
}

/// For each (text before, text after) a number of some node name: (value, width, id)
/// sorted by value. Lets a large range find its nodes without building every name.
type Patterns = FxHashMap<(String, String), Vec<(u128, u16, u32)>>;

fn build_patterns(names: &[String]) -> Patterns {
    let mut p: Patterns = FxHashMap::default();
    for (id, name) in names.iter().enumerate() {
        let b = name.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if !b[i].is_ascii_digit() {
                i += 1;
                continue;
            }
            let s = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i - s <= 30 {
                let v: u128 = name[s..i].parse().unwrap_or(0);
                p.entry((name[..s].to_string(), name[i..].to_string()))
                    .or_default()
                    .push((v, (i - s) as u16, id as u32));
            }
        }
    }
    for v in p.values_mut() {
        v.sort_unstable();
    }
    p
}

/// Text that no rule of `expandatom` reacts to (besides the all-digit rule).
fn plain(s: &str) -> bool {
    !s.bytes().any(|c| {
        matches!(
            c,
            b'(' | b')' | b'@' | b'=' | b'~' | b'[' | b']' | b'+' | b'-' | b':' | b'/' | b'\n'
        )
    })
}

/// Number of decimal digits of `v`.
fn digits(v: u128) -> usize {
    if v == 0 {
        1
    } else {
        v.ilog10() as usize + 1
    }
}

/// The state of one top-level evaluation.
pub(crate) struct Run<'e, 's> {
    ev: &'e Evaluator<'s>,
    opts: &'e Options,
    /// `$missingnodes`.
    missing: Vec<String>,
    /// `$recurselevel`.
    level: u64,
    /// Native nesting depth, for [`Limits::max_depth`].
    depth: usize,
    /// Names that ranges may still generate.
    budget: u64,
    /// Bytes that bracket expansions may still build.
    text_budget: usize,
    pub(crate) regexes: FxHashMap<String, Result<PerlRegex, Error>>,
}

/// The set operation selected by the separator before an element.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    /// `,` (xCAT's `$op` = ",")
    Union,
    /// `,-` (exclusion, deferred to the end of the level)
    Exclude,
    /// `@` (intersection, immediate)
    Intersect,
}

impl Run<'_, '_> {
    fn enter(&mut self, atom: &str) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > self.opts.limits.max_depth {
            self.depth -= 1;
            return Err(Error::TooDeep {
                atom: atom.chars().take(200).collect(),
                limit: self.opts.limits.max_depth,
            });
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// `sub noderange($range, $verify, $exsitenode, %options)`.
    fn noderange(
        &mut self,
        range: &str,
        verify: bool,
        exsitenode: bool,
        generic: bool,
        keepmissing: bool,
    ) -> Result<Set, Error> {
        self.enter(range)?;
        // Every call scans and copies its text (as xCAT does): charge it, so that deep
        // nesting of a long text cannot take quadratic time.
        if range.len() > self.text_budget {
            self.leave();
            return Err(Error::TooLong {
                atom: range.chars().take(200).collect(),
                limit: self.opts.limits.max_text,
            });
        }
        self.text_budget -= range.len();
        let r = stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
            self.noderange_inner(range, verify, exsitenode, generic, keepmissing)
        });
        self.leave();
        r
    }

    fn noderange_inner(
        &mut self,
        range: &str,
        verify: bool,
        exsitenode: bool,
        generic: bool,
        keepmissing: bool,
    ) -> Result<Set, Error> {
        // $range =~ s/['"]//g;
        let mut range: String = range.chars().filter(|c| *c != '\'' && *c != '"').collect();
        if !keepmissing {
            self.missing.clear();
        }
        let mut nodes = Set::new(self.ev.words);
        let mut delnodes = Set::new(self.ev.words);

        // The first balanced parenthesised group is combined immediately.
        if range.contains('(') {
            let (start, middle, end) =
                extract_bracketed(&range).ok_or(Error::UnbalancedParentheses)?;
            let mut start = start.to_string();
            let middle = middle.to_string();
            let end = end.to_string();
            let op = if perl::ends_with_dollar(&start, "-") {
                Op::Exclude
            } else if perl::ends_with_dollar(&start, "@") {
                Op::Intersect
            } else {
                Op::Union
            };
            perl::remove_suffix_dollar(&mut start, ",-");
            perl::remove_suffix_dollar(&mut start, ",");
            perl::remove_suffix_dollar(&mut start, "@");
            nodes = self.noderange(&start, verify, exsitenode, generic, true)?;
            let inner = self.noderange(&middle, verify, exsitenode, generic, true)?;
            match op {
                Op::Intersect => nodes.retain_in(&inner),
                Op::Exclude => nodes.subtract(&inner),
                Op::Union => nodes.union(inner),
            }
            range = end;
        }

        let mut elems = split_top_commas(&range);
        if elems.len() == 1 {
            elems = split_top_ats(&range);
        }

        // The pending operator: a base separator and whether a '-' was appended to it.
        let mut base = Some(',');
        let mut dash = false;
        let mut it = elems.into_iter();
        while let Some(elem) = it.next() {
            if elem.is_empty() || elem == "," {
                continue;
            }
            let mut atom: &str = &elem;
            if let Some(rest) = atom.strip_prefix('-') {
                atom = rest;
                dash = true;
            } else if let Some(rest) = atom.strip_prefix('@') {
                atom = rest;
                base = Some('@');
                dash = false;
            }
            if atom.is_empty() {
                continue;
            }
            if let Some(path) = file_element(atom) {
                self.file(path, verify, exsitenode, generic, keepmissing, &mut nodes)?;
                continue;
            }
            let mut out = Vec::new();
            self.expandatom(atom, verify, generic, &mut out)?;
            let op = match (base, dash) {
                (Some('@'), _) => Op::Intersect,
                (Some(','), true) => Op::Exclude,
                _ => Op::Union,
            };
            match op {
                Op::Intersect => nodes.retain_in(&Set::from_items(out, self.ev.words)),
                Op::Exclude => delnodes.extend(out),
                Op::Union => nodes.extend(out),
            }
            // $op = shift @elems;
            base = it.next().and_then(|s| s.chars().next());
            dash = false;
        }

        if exsitenode {
            if let Some(ex) = self.ev.source.site("excludenodes") {
                // if ($::XCATSITEVALS{excludenodes}): Perl truth.
                if !ex.is_empty() && ex != "0" {
                    let bad = self.noderange(&ex, true, false, generic, keepmissing)?;
                    delnodes.union(bad);
                }
            }
        }
        nodes.subtract(&delnodes);
        if self.level > 0 {
            self.level -= 1;
        }
        Ok(nodes)
    }

    /// A `^file` element: every line is an independent noderange whose nodes are added.
    fn file(
        &mut self,
        path: &str,
        verify: bool,
        exsitenode: bool,
        generic: bool,
        keepmissing: bool,
        nodes: &mut Set,
    ) -> Result<(), Error> {
        // open(my $nrf, '<', $nrfile) or next;
        let Ok(bytes) = self.ev.source.read_file(path) else {
            return Ok(());
        };
        let text = String::from_utf8_lossy(&bytes);
        for line in text.split_inclusive('\n') {
            if line.starts_with('^') || line.starts_with('#') {
                continue;
            }
            // $line =~ m/^([^:\t ]*)/; chomp
            let end = line.find([':', '\t', ' ']).unwrap_or(line.len());
            let mut newrange = &line[..end];
            newrange = newrange.strip_suffix('\n').unwrap_or(newrange);
            self.level += 1;
            let filenodes = self.noderange(newrange, verify, exsitenode, generic, keepmissing)?;
            nodes.union(filenodes);
        }
        Ok(())
    }

    /// Records an element that cannot be resolved (or returns it literally in noverify mode).
    fn invalid(&mut self, atom: &str, verify: bool, out: &mut Vec<Item>) {
        if verify {
            self.missing.push(atom.to_string());
        } else {
            out.push(self.ev.item(atom));
        }
    }

    fn charge(&mut self, element: &str, count: u128) -> Result<(), Error> {
        if count > u128::from(self.budget) {
            return Err(Error::TooManyNames {
                element: element.to_string(),
                count: u64::try_from(count).unwrap_or(u64::MAX),
                limit: self.opts.limits.max_names,
            });
        }
        self.budget -= count as u64;
        Ok(())
    }

    /// `sub expandatom($atom, $verify, %options)`.
    pub(crate) fn expandatom(
        &mut self,
        atom: &str,
        verify: bool,
        generic: bool,
        out: &mut Vec<Item>,
    ) -> Result<(), Error> {
        if self.level > XCAT_RECURSION_LIMIT {
            return Err(Error::RecursionLimit {
                atom: atom.to_string(),
            });
        }
        // Plain node names are by far the most common atoms: answer them without
        // touching the stack machinery.
        if !generic {
            if let Some(&i) = self.ev.index.get(atom) {
                out.push(Item::Node(i));
                return Ok(());
            }
        }
        self.enter(atom)?;
        let r = stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
            self.expandatom_inner(atom, verify, generic, out)
        });
        self.leave();
        r
    }

    fn expandatom_inner(
        &mut self,
        atom: &str,
        verify: bool,
        generic: bool,
        out: &mut Vec<Item>,
    ) -> Result<(), Error> {
        // if ($atom =~ /^\(.*\)$/) { $atom =~ s/^\((.*)\)$/$1/; ... }
        if let Some(inner) = paren_wrapped(atom) {
            self.level += 1;
            let set = self.noderange(&inner, verify, true, generic, true)?;
            out.extend(set.into_items());
            return Ok(());
        }
        if atom.contains('@') {
            self.level += 1;
            let set = self.noderange(atom, verify, true, generic, true)?;
            out.extend(set.into_items());
            return Ok(());
        }

        // Groups: dynamic first, else static; a defined but empty group is empty.
        let mut members: Vec<u32> = Vec::new();
        if !generic {
            if let Some(&row) = self.ev.dynamic.get(atom) {
                members = self.ev.dynamic_members(row, self)?;
            } else if let Some(m) = self.ev.members.get(atom) {
                members = m.clone();
            }
            if members.is_empty() && self.ev.defined_groups.contains(atom) {
                return Ok(());
            }
        }

        // node selection based on db attribute values (nodetype.os==rhels5.3)
        if atom.contains(['=', '~']) {
            let sel = attr::nodes_by_criteria(self.ev, atom, &mut self.regexes)?;
            out.extend(sel.into_iter().map(Item::Node));
            return Ok(());
        }

        // All digits: <prefix><digits><suffix>, before group members are used.
        if !atom.is_empty() && atom.bytes().all(|c| c.is_ascii_digit()) {
            let name = format!("{}{}{}", self.opts.node_prefix, atom, self.opts.node_suffix);
            return self.expandatom(&name, verify, generic, out);
        }

        if !members.is_empty() {
            out.extend(members.into_iter().map(Item::Node));
            return Ok(());
        }

        if let Some(re) = atom.strip_prefix('/') {
            if !verify || generic {
                out.push(self.ev.item(atom));
                return Ok(());
            }
            let pattern = format!("^{re}$");
            let regex = attr::compile(&mut self.regexes, &pattern, re)?;
            for (i, n) in self.ev.names.iter().enumerate() {
                if regex.is_match(n)? {
                    out.push(Item::Node(i as u32));
                }
            }
            return Ok(());
        }

        if let Some((start, inner, ending)) = bracket_match(atom) {
            return self.brackets(atom, start, inner, ending, verify, generic, out);
        }

        if atom.contains('+') {
            return self.increment(atom, verify, generic, out);
        }

        if atom.contains(['-', ':']) {
            return self.dash_range(atom, verify, generic, out);
        }

        self.invalid(atom, verify, out);
        Ok(())
    }

    /// `text[inner]rest`: the inside becomes a comma list of names and ranges.
    #[allow(clippy::too_many_arguments)]
    fn brackets(
        &mut self,
        atom: &str,
        start: &str,
        inner: &str,
        ending: &str,
        verify: bool,
        generic: bool,
        out: &mut Vec<Item>,
    ) -> Result<(), Error> {
        let subelems = perl::split_keep_chars(inner, |c| matches!(c, ',' | '-' | ':'));
        let morebrackets = has_bracket_pair(ending);
        let mut len = 0usize;
        for pair in subelems.chunks(2) {
            len = len
                .saturating_add(start.len())
                .saturating_add(pair[0].len())
                .saturating_add(if morebrackets { 0 } else { ending.len() })
                .saturating_add(1);
        }
        if len > self.text_budget {
            return Err(Error::TooLong {
                atom: atom.chars().take(200).collect(),
                limit: self.opts.limits.max_text,
            });
        }
        self.text_budget -= len;
        let mut subrange = String::with_capacity(len);
        for pair in subelems.chunks(2) {
            subrange.push_str(start);
            subrange.push_str(&pair[0]);
            if !morebrackets {
                subrange.push_str(ending);
            }
            if let Some(op) = pair.get(1) {
                subrange.push_str(op);
            }
        }
        let pieces = perl::split_commas(&subrange);
        self.charge(atom, pieces.len() as u128)?;
        for piece in pieces {
            if !morebrackets {
                self.expandatom(&piece, verify, generic, out)?;
            } else {
                let mut prefixes = Vec::new();
                self.expandatom(&piece, false, true, &mut prefixes)?;
                for p in prefixes {
                    let name = match p {
                        Item::Node(i) => format!("{}{ending}", self.ev.names[i as usize]),
                        Item::Name(n) => format!("{n}{ending}"),
                    };
                    self.expandatom(&name, verify, generic, out)?;
                }
            }
        }
        Ok(())
    }

    /// When every name of the range `prefix{l..r}suffix` is a defined node, their ids
    /// (each name would be found by the node lookup that starts `expandatom`).
    fn all_defined(&self, prefix: &str, suffix: &str, l: &str, r: &str) -> Option<Vec<u32>> {
        let (lo, hi, width) = perl::digit_range(l, r)?;
        let patterns = self
            .ev
            .patterns
            .get_or_init(|| build_patterns(&self.ev.names));
        let entries = patterns.get(&(prefix.to_string(), suffix.to_string()))?;
        let want = hi.checked_sub(lo)?.checked_add(1)?;
        if (entries.len() as u128) < want {
            return None;
        }
        let start = entries.partition_point(|e| e.0 < lo);
        let mut ids = Vec::with_capacity(want as usize);
        for &(v, w, id) in &entries[start..] {
            if v > hi {
                break;
            }
            if usize::from(w) == digits(v).max(width) {
                ids.push(id);
            }
        }
        (ids.len() as u128 == want).then_some(ids)
    }

    /// `name+K`: the digits before an optional `.domain` are incremented K times.
    fn increment(
        &mut self,
        atom: &str,
        verify: bool,
        generic: bool,
        out: &mut Vec<Item>,
    ) -> Result<(), Error> {
        let (front, increment) = atom.split_once('+').unwrap_or((atom, ""));
        let (mut pref, startnum, mut suf) = match split_increment_front(front) {
            Some((p, d, dom)) => (p.to_string(), d.to_string(), dom.unwrap_or("").to_string()),
            // The match failed: $3 is left over from the unused match on the whole atom.
            None => (
                String::new(),
                String::new(),
                leftover_group3(atom).to_string(),
            ),
        };
        let start = if startnum.is_empty() {
            perl::Num::Int(0)
        } else {
            perl::numify(&startnum)
        };
        let end = perl::add(start, perl::numify(increment));
        let mut endnum = perl::sprintf_d(end, 0);
        if startnum.len() > endnum.len() {
            endnum = perl::sprintf_d(end, startnum.len());
        }
        if pref.is_empty() && suf.is_empty() {
            pref = self.opts.node_prefix.clone();
            suf = self.opts.node_suffix.clone();
        }
        let count = perl::range_len(&startnum, &endnum)?;
        self.charge(atom, count)?;
        let mut buf = String::new();
        perl::for_each_in_range(&startnum, &endnum, |v| {
            buf.clear();
            buf.push_str(&pref);
            buf.push_str(v);
            buf.push_str(&suf);
            self.expandatom(&buf, verify, generic, out)
        })
    }

    /// `left-right` or `left:right`: one numeric field varies.
    fn dash_range(
        &mut self,
        atom: &str,
        verify: bool,
        generic: bool,
        out: &mut Vec<Item>,
    ) -> Result<(), Error> {
        let (left, right): (String, String);
        if atom.contains(':') {
            // ($left, $right) = split /:/, $atom;   (implicit limit 3)
            let mut parts = atom.splitn(3, ':');
            left = parts.next().unwrap_or("").to_string();
            right = parts.next().unwrap_or("").to_string();
        } else {
            let count = atom.bytes().filter(|&c| c == b'-').count();
            if count % 2 == 0 {
                self.invalid(atom, verify, out);
                return Ok(());
            }
            match middle_dash_split(atom, count / 2) {
                Some((l, r)) => {
                    left = l.to_string();
                    right = r.to_string();
                }
                // The match failed: $1 and $2 keep their values from the last successful
                // match, m/[-:]/, which has no groups: both are undef.
                None => {
                    left = String::new();
                    right = String::new();
                }
            }
        }
        if left == right {
            return self.expandatom(&left, verify, generic, out);
        }
        let la = perl::split_digit_runs(&left);
        let ra = perl::split_digit_runs(&right);
        if la.len() != ra.len() {
            self.invalid(atom, verify, out);
            return Ok(());
        }
        let is_num = |s: &str| {
            let t = perl::before_final_newline(s);
            !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit())
        };
        for idx in 0..la.len() {
            if is_num(la[idx]) && is_num(ra[idx]) {
                if la[idx] != ra[idx] {
                    let prefix: String = la[..idx].concat();
                    let luffix: String = la[idx + 1..].concat();
                    let ruffix: String = ra[idx + 1..].concat();
                    if luffix != ruffix {
                        self.invalid(atom, verify, out);
                        return Ok(());
                    }
                    let count = perl::range_len(la[idx], ra[idx])?;
                    self.charge(atom, count)?;
                    if !generic && count >= 64 && self.level <= XCAT_RECURSION_LIMIT {
                        if let Some(ids) = self.all_defined(&prefix, &luffix, la[idx], ra[idx]) {
                            out.extend(ids.into_iter().map(Item::Node));
                            return Ok(());
                        }
                    }
                    let mut buf = String::new();
                    let literal = generic && !verify && plain(&prefix) && plain(&luffix);
                    return perl::for_each_in_range(la[idx], ra[idx], |v| {
                        buf.clear();
                        buf.push_str(&prefix);
                        buf.push_str(v);
                        buf.push_str(&luffix);
                        if literal && buf.bytes().any(|c| !c.is_ascii_digit()) {
                            // Every rule of expandatom passes such a name by: it is
                            // returned as it is (what the last rule does in generic mode).
                            out.push(self.ev.item(&buf));
                            return Ok(());
                        }
                        self.expandatom(&buf, verify, generic, out)
                    });
                }
            } else if la[idx] != ra[idx] {
                self.invalid(atom, verify, out);
                return Ok(());
            }
        }
        self.invalid(atom, verify, out);
        Ok(())
    }
}

/// `extract_bracketed($range, '()', qr/[^()]*/)` from `Text::Balanced`: the text before the
/// first parenthesis, the inside of the balanced group that starts there, and the rest.
/// A backslash escapes the character after it inside the group.
pub(crate) fn extract_bracketed(s: &str) -> Option<(&str, &str, &str)> {
    let b = s.as_bytes();
    let open = b.iter().position(|&c| c == b'(' || c == b')')?;
    if b[open] != b'(' {
        return None;
    }
    let mut depth = 0usize;
    let mut i = open;
    while i < b.len() {
        match b[i] {
            b'\\' if i + 1 < b.len() => {
                // m/\G\\./gcs: skip the escaped character (one whole UTF-8 character).
                let next = s[i + 1..].chars().next().map_or(1, char::len_utf8);
                i += 1 + next;
                continue;
            }
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some((&s[..open], &s[open + 1..i], &s[i + 1..]));
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// `split(/(,(?![^[]*?])(?![^\(]*?\)))/, $range)`: commas that are not followed by a `]`
/// before the next `[`, nor by a `)` before the next `(`.
fn split_top_commas(s: &str) -> Vec<String> {
    split_protected(s, b',', true)
}

/// `split(/(@(?![^\(]*?\)))/, $range)`.
fn split_top_ats(s: &str) -> Vec<String> {
    split_protected(s, b'@', false)
}

fn split_protected(s: &str, sep: u8, brackets: bool) -> Vec<String> {
    if s.is_empty() {
        return Vec::new();
    }
    let b = s.as_bytes();
    // For each position, is the next '['/']' a ']' and the next '('/')' a ')'?
    let mut protected = vec![false; b.len()];
    let mut next_sq: u8 = 0;
    let mut next_paren: u8 = 0;
    for i in (0..b.len()).rev() {
        protected[i] = (brackets && next_sq == b']') || next_paren == b')';
        match b[i] {
            b'[' | b']' => next_sq = b[i],
            b'(' | b')' => next_paren = b[i],
            _ => {}
        }
    }
    let mut out = Vec::new();
    let mut start = 0;
    for i in 0..b.len() {
        if b[i] == sep && !protected[i] {
            out.push(s[start..i].to_string());
            out.push((sep as char).to_string());
            start = i + 1;
        }
    }
    out.push(s[start..].to_string());
    perl::drop_trailing_empty(&mut out);
    out
}

/// `$atom =~ /^\^(.*)$/`: the path of a file element.
fn file_element(atom: &str) -> Option<&str> {
    let rest = atom.strip_prefix('^')?;
    let path = perl::before_final_newline(rest);
    (!path.contains('\n')).then_some(path)
}

/// `$atom =~ /^\(.*\)$/` then `s/^\((.*)\)$/$1/`.
fn paren_wrapped(atom: &str) -> Option<String> {
    let body = perl::before_final_newline(atom);
    let inner = body.strip_prefix('(')?.strip_suffix(')')?;
    if inner.contains('\n') {
        return None;
    }
    let mut s = inner.to_string();
    if body.len() < atom.len() {
        s.push('\n');
    }
    Some(s)
}

/// `$atom =~ m/(.+?)\[(.+?)\](.*)/`: text before the first `[` (at least one character),
/// the shortest non-empty inside, and the rest of the line.
fn bracket_match(atom: &str) -> Option<(&str, &str, &str)> {
    // `.` does not match a newline, so the match lies within one line; the leftmost
    // line that has one wins.
    let mut line_start = 0;
    for line in atom.split('\n') {
        let b = line.as_bytes();
        if let Some(open) = b.iter().skip(1).position(|&c| c == b'[').map(|p| p + 1) {
            if let Some(close) = b
                .iter()
                .skip(open + 2)
                .position(|&c| c == b']')
                .map(|p| p + open + 2)
            {
                let _ = line_start;
                return Some((&line[..open], &line[open + 1..close], &line[close + 1..]));
            }
        }
        line_start += line.len() + 1;
    }
    None
}

/// `$ending =~ /\[.+?\]/`.
fn has_bracket_pair(s: &str) -> bool {
    s.split('\n').any(|line| {
        let b = line.as_bytes();
        b.iter()
            .position(|&c| c == b'[')
            .is_some_and(|open| b.iter().skip(open + 2).any(|&c| c == b']'))
    })
}

/// `$front =~ /^(.*?)(\d+)(\..+)?$/`: the shortest prefix, a digit run, an optional domain.
fn split_increment_front(front: &str) -> Option<(&str, &str, Option<&str>)> {
    let body = perl::before_final_newline(front);
    if body.contains('\n') {
        return None;
    }
    let b = body.as_bytes();
    for i in 0..b.len() {
        if !b[i].is_ascii_digit() {
            continue;
        }
        let mut j = i;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j == b.len() {
            return Some((&body[..i], &body[i..j], None));
        }
        if b[j] == b'.' && j + 1 < b.len() {
            return Some((&body[..i], &body[i..j], Some(&body[j..])));
        }
    }
    None
}

/// `$3` of `$atom =~ m/^(.*)([0-9]+)([^0-9\+]*)\+([0-9]+)/` (empty when it does not match).
fn leftover_group3(atom: &str) -> &str {
    let b = atom.as_bytes();
    let first_nl = atom.find('\n').unwrap_or(b.len());
    for p in (0..b.len()).rev() {
        if b[p] != b'+' || !b.get(p + 1).is_some_and(|c| c.is_ascii_digit()) {
            continue;
        }
        let mut k = p;
        while k > 0 && !b[k - 1].is_ascii_digit() && b[k - 1] != b'+' {
            k -= 1;
        }
        if k > 0 && b[k - 1].is_ascii_digit() && k - 1 < first_nl {
            return &atom[k..p];
        }
    }
    ""
}

/// `$atom =~ m/([^-]+?(-[^-]*){k})-(.*)/`: the dash range split at the middle dash.
fn middle_dash_split(atom: &str, k: usize) -> Option<(&str, &str)> {
    let b = atom.as_bytes();
    let p = b.iter().position(|&c| c != b'-')?;
    // Dashes before p are skipped by the unanchored match; it needs k+1 dashes after p.
    let mut seen = 0;
    for (i, &c) in b.iter().enumerate().skip(p) {
        if c == b'-' {
            seen += 1;
            if seen == k + 1 {
                let left = &atom[p..i];
                let rest = &atom[i + 1..];
                let right = rest.split('\n').next().unwrap_or("");
                return Some((left, right));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_balanced() {
        assert_eq!(extract_bracketed("a,(b,c),d"), Some(("a,", "b,c", ",d")));
        assert_eq!(extract_bracketed("((a)b)c"), Some(("", "(a)b", "c")));
        assert_eq!(extract_bracketed("a)(b)"), None);
        assert_eq!(extract_bracketed("a(b"), None);
        assert_eq!(extract_bracketed("a(b\\)c)d"), Some(("a", "b\\)c", "d")));
    }

    #[test]
    fn top_level_split() {
        assert_eq!(split_top_commas("a,b"), ["a", ",", "b"]);
        assert_eq!(split_top_commas("n[1,2],b"), ["n[1,2]", ",", "b"]);
        assert_eq!(split_top_commas(",a,"), ["", ",", "a", ","]);
        assert_eq!(split_top_ats("a@b"), ["a", "@", "b"]);
    }

    #[test]
    fn middle_dash() {
        assert_eq!(
            middle_dash_split("cn1-ib-cn3-ib", 1),
            Some(("cn1-ib", "cn3-ib"))
        );
        assert_eq!(middle_dash_split("-a-b-c", 1), Some(("a-b", "c")));
        assert_eq!(middle_dash_split("-a", 0), None);
        assert_eq!(middle_dash_split("a---b", 1), Some(("a-", "-b")));
    }

    #[test]
    fn bracket_regex() {
        assert_eq!(bracket_match("node[1-3]"), Some(("node", "1-3", "")));
        assert_eq!(bracket_match("a[]b[1]"), Some(("a", "]b[1", "")));
        assert_eq!(bracket_match("[1-3]node"), None);
        assert_eq!(bracket_match("[1]x[2]"), Some(("[1]x", "2", "")));
        assert_eq!(bracket_match("n[1"), None);
    }

    #[test]
    fn increment_front() {
        assert_eq!(split_increment_front("f1n1"), Some(("f1n", "1", None)));
        assert_eq!(
            split_increment_front("host1.dom"),
            Some(("host", "1", Some(".dom")))
        );
        assert_eq!(
            split_increment_front("a1.b2.c3"),
            Some(("a", "1", Some(".b2.c3")))
        );
        assert_eq!(split_increment_front("abc"), None);
        assert_eq!(leftover_group3("abc+1x+2"), "x");
        assert_eq!(leftover_group3("abc+2"), "");
    }
}

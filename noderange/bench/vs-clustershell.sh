#!/usr/bin/env bash
# Runs the noderange benchmark workloads through this crate and through ClusterShell's
# NodeSet on this machine and prints the ratio. Times are CPU time of the working thread,
# best of RUNS runs, so a busy machine inflates neither side.
#
#   bash noderange/bench/vs-clustershell.sh [RUNS]
#
# Needs ClusterShell (Debian package `clustershell`, or `pip install ClusterShell`).
set -euo pipefail
RUNS="${1:-5}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
py=/usr/bin/python3
if ! "$py" -c 'import ClusterShell' 2>/dev/null; then
    py=python3
    "$py" -c 'import ClusterShell' 2>/dev/null || {
        echo "ClusterShell is not installed: apt-get install clustershell (or pip install ClusterShell)" >&2
        exit 1
    }
fi
cd "$root"
cargo build --release -q -p noderange --example nrtime --example nrfold
target="${CARGO_TARGET_DIR:-$root/target}"
ours="$(mktemp)"; theirs="$(mktemp)"
trap 'rm -f "$ours" "$theirs"' EXIT
"$target/release/examples/nrtime" "$RUNS" > "$ours"
"$py" "$here/clustershell_bench.py" "$RUNS" > "$theirs"
csver="$("$py" -c 'import ClusterShell; print(ClusterShell.__version__)')"
printf '%-30s %12s %16s %8s\n' "workload (100k names)" "noderange ms" "ClusterShell ms" "ratio"
while IFS=$'\t' read -r name cs; do
    us="$(awk -F'\t' -v n="$name" '$1 == n { print $2 }' "$ours")"
    [ -n "$us" ] || continue
    ratio="$(awk -v a="$cs" -v b="$us" 'BEGIN { printf "%.0fx", a / (b > 0 ? b : 0.001) }')"
    printf '%-30s %12s %16s %8s\n' "$name" "$us" "$cs" "$ratio"
done < "$theirs"
echo "(ClusterShell $csver, $(nproc) cores; CPU ms, best of $RUNS; also from noderange only:)"
grep -v -F -f <(cut -f1 "$theirs") "$ours" | awk -F'\t' '{ printf "  %-28s %10s ms\n", $1, $2 }'

# End to end, as commands: fold 100k shuffled names read from stdin (user+sys CPU seconds).
names="$(mktemp)"; trap 'rm -f "$ours" "$theirs" "$names"' EXIT
"$py" -c 'import random; n=["node%d" % i for i in range(1, 100001)]; random.Random(1).shuffle(n); print("\n".join(n))' > "$names"
cpu() { /usr/bin/time -f '%U %S' "$@" < "$names" 2>&1 >/dev/null | tail -1 | awk '{ printf "%.3f", $1 + $2 }'; }
if command -v nodeset > /dev/null; then
    a="$(cpu "$target/release/examples/nrfold")"
    b="$(cpu nodeset -f)"
    printf '%-30s %12s %16s %8s\n' "fold 100k names, command" "${a}s" "${b}s" "$(awk -v a="$b" -v b="$a" 'BEGIN { printf "%.0fx", a / (b > 0 ? b : 0.001) }')"
    [ "$("$target/release/examples/nrfold" < "$names")" = "$(nodeset -f < "$names")" ] && echo "(same output as nodeset -f)"
fi

#!/bin/sh
# Whole-process benchmark of snmove on a generated 100 000-node cluster with 20 service-node
# pairs (fixtures' gencluster), CSV store:
#   1. snmove -s sn1 -i -D sn2-c      (one service node's share, ~5 000 nodes)
#   2. snmove 'cn[000001-050000]' -i  (50 000 nodes, xcatmaster derived from the tables)
# Each run starts from a fresh copy of the cluster; xCAT's makeconservercf/nodeset are no-op
# stand-ins on PATH. Prints wall time, CPU time and peak memory (/usr/bin/time) and snmove's
# own phase timings (SNMOVE_TIMING).
#
# Usage: snmove/bench/move-100k.sh [RUNS]      (from the workspace root; builds release)
set -eu
RUNS=${1:-3}
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p snmove --bin snmove -p fixtures --bin gencluster
BIN=$TARGET/release
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/stubs"
for c in makeconservercf nodeset; do printf '#!/bin/sh\nexit 0\n' > "$WORK/stubs/$c"; chmod +x "$WORK/stubs/$c"; done
"$BIN/gencluster" --nodes 100000 --sn-pairs 20 --out "$WORK/c100k" > /dev/null
run() {
    name=$1; shift
    i=1
    while [ "$i" -le "$RUNS" ]; do
        rm -rf "$WORK/db"; cp -r "$WORK/c100k" "$WORK/db"; sync
        SNMOVE_TIMING=1 SNMOVE_HOSTNAME=mn PATH="$WORK/stubs:/usr/bin:/bin" \
            /usr/bin/time -f "$name: %e s wall, %U s user, %S s sys, %M KB peak RSS" \
            "$BIN/snmove" --db "CSV:$WORK/db" "$@" 2>&1 >/dev/null | grep -E 'wall|timing' | tr '\n' ' '
        echo
        i=$((i + 1))
    done
}
run "5k (-s sn1)" -s sn1 -i -D sn2-c
run "50k" 'cn[000001-050000]' -i --skip-nodeset

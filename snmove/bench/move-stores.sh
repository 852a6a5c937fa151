#!/usr/bin/env bash
# Whole-process benchmark of snmove on the database stores: a generated 100 000-node cluster
# with 2 service-node pairs (fixtures' gencluster) is restored into PostgreSQL and into xCAT's
# SQLite layout with restorexCATdb, then `snmove -s sn1 -i --skip-nodeset` moves sn1's nodes
# (50 000). Each run starts from a fresh restore. Prints wall time, CPU time and peak memory
# (/usr/bin/time), the number of database round trips (PostgreSQL) and snmove's phase timings.
# PostgreSQL runs privately (initdb in a temporary directory, default settings, fsync on, Unix
# socket only) and is torn down at the end.
#
# usage: [NODES=100000] snmove/bench/move-stores.sh [RUNS]     (from anywhere; builds release)
# Needs: the Debian package postgresql, /usr/bin/time. Run as root (the server then runs as
# user postgres) or as an ordinary user.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-3}
NODES=${NODES:-100000}
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p snmove --bin snmove -p fixtures --bin gencluster -p xcattab --bin restorexCATdb
BIN=$TARGET/release

WORK=$(mktemp -d /tmp/snmove-bench.XXXXXX)
. scripts/private-pg.sh
private_pg_start "$WORK"

mkdir -p "$WORK/stubs"
for c in makeconservercf nodeset; do printf '#!/bin/sh\nexit 0\n' > "$WORK/stubs/$c"; chmod +x "$WORK/stubs/$c"; done
"$BIN/gencluster" --nodes "$NODES" --sn-pairs 2 --out "$WORK/c100k" > /dev/null

fresh() { # kind -> prints the store name, restored from the generated cluster
    case $1 in
    pg)
        "${AS[@]}" "$PGBIN/dropdb" --if-exists -h "$WORK" -p "$PORT" -U postgres xcatdb 2>/dev/null
        "${AS[@]}" "$PGBIN/createdb" -h "$WORK" -p "$PORT" -U postgres xcatdb
        spec="Pg:dbname=xcatdb;host=$WORK;port=$PORT|postgres|" ;;
    sqlite)
        rm -rf "$WORK/sqlite"; mkdir -p "$WORK/sqlite"
        spec="SQLite:$WORK/sqlite" ;;
    esac
    "$BIN/restorexCATdb" --db "$spec" -p "$WORK/c100k" > /dev/null
    sync
    echo "$spec"
}

echo "| store | run | moved | wall (s) | user + sys CPU (s) | peak RSS (MB) | round trips | phases |"
echo "|---|---|---|---|---|---|---|---|"
for kind in pg sqlite; do
    i=1
    while [ "$i" -le "$RUNS" ]; do
        spec=$(fresh "$kind")
        mkdir -p "$WORK/journal"
        out=$(SNMOVE_TIMING=1 SNMOVE_HOSTNAME=mn PATH="$WORK/stubs:/usr/bin:/bin" \
            /usr/bin/time -f 'TIME %e %M %U %S' \
            "$BIN/snmove" --db "$spec" --journal-dir "$WORK/journal" -s sn1 -i --skip-nodeset 2>&1) ||
            { echo "$out" | tail -20 >&2; exit 1; }
        t=$(echo "$out" | sed -n 's/^TIME \([0-9.]*\) .*/\1/p')
        kb=$(echo "$out" | sed -n 's/^TIME [0-9.]* \([0-9]*\) .*/\1/p')
        cpu=$(echo "$out" | sed -n 's/^TIME [0-9.]* [0-9]* \([0-9.]*\) \([0-9.]*\)/\1 \2/p' | awk '{printf "%.2f", $1 + $2}')
        trips=$(echo "$out" | sed -n 's/^snmove timing: database round trips (load + commit) //p')
        moved=$(echo "$out" | grep -oE '[0-9]+ node\(s\) from sn1' | head -1 | cut -d' ' -f1)
        phases=$(echo "$out" | sed -n 's/^snmove timing: \(load\|plan\|store commit\|journal (build)\|journal (write, fsync)\) \([0-9.]*\) ms/\1 \2/p' | paste -sd";" - | sed "s/;/; /g")
        printf '| %s | %s | %s | %s | %s | %s | %s | %s ms |\n' "$kind" "$i" "${moved:-?}" "$t" "$cpu" "$((kb / 1024))" "${trips:--}" "$phases"
        rm -rf "$WORK/journal"
        i=$((i + 1))
    done
done

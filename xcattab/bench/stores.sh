#!/usr/bin/env bash
# Store benchmark: a move-like commit (node-level upserts of noderes servicenode, xcatmaster,
# tftpserver and nodehm conserver for MOVE nodes, after loading and resolving the cluster) on a
# generated NODES-node cluster, on PostgreSQL, SQLite and the CSV directory. Each step is its
# own process, timed by /usr/bin/time (elapsed, peak RSS); the PostgreSQL store reports its
# round trips. PostgreSQL runs privately (initdb in a temporary directory, default settings —
# fsync on — Unix socket only), torn down at the end.
#
# usage: xcattab/bench/stores.sh [NODES [MOVE]]        (default 100000 50000)
# Needs: the Debian package postgresql, /usr/bin/time. Run as root (the server then runs as
# user postgres) or as an ordinary user.
set -euo pipefail
cd "$(dirname "$0")/../.."

NODES=${1:-100000}
MOVE=${2:-50000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}

echo "building (release)…" >&2
BIN=$(cargo bench -q -p xcattab --bench stores --no-run --message-format=json |
    grep '"kind":\["bench"\]' | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)
[ -x "$BIN" ] || { echo "could not build the bench binary" >&2; exit 1; }

WORK=$(mktemp -d /tmp/xcattab-bench.XXXXXX)
. scripts/private-pg.sh
private_pg_start "$WORK"
"${AS[@]}" "$PGBIN/createdb" -h "$WORK" -p "$PORT" -U postgres xcatdb

mkdir -p "$WORK/csv" "$WORK/sqlite" "$WORK/csvstore"
"$BIN" gen "$WORK/csv" "$NODES"

PG="Pg:dbname=xcatdb;host=$WORK;port=$PORT|postgres|"
declare -A SPECS=([pg]="$PG" [sqlite]="SQLite:$WORK/sqlite" [csv]="CSV:$WORK/csvstore")

echo
echo "| store | nodes | moved | whole process (s) | client CPU (s) | peak RSS (MB) | detail |"
echo "|---|---|---|---|---|---|---|"
for kind in pg sqlite csv; do
    spec=${SPECS[$kind]}
    "$BIN" load "$spec" "$WORK/csv"
    out=$(/usr/bin/time -f 'TIME %e %M %U %S' "$BIN" move "$spec" "$MOVE" 2>&1) || { echo "$out" >&2; exit 1; }
    t=$(echo "$out" | sed -n 's/^TIME \([0-9.]*\) .*/\1/p')
    kb=$(echo "$out" | sed -n 's/^TIME [0-9.]* \([0-9]*\) .*/\1/p')
    cpu=$(echo "$out" | sed -n 's/^TIME [0-9.]* [0-9]* \([0-9.]*\) \([0-9.]*\)/\1 \2/p' | awk '{printf "%.2f", $1 + $2}')
    detail=$(echo "$out" | grep '^moved' | sed 's/|/\\|/g')
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$kind" "$NODES" "$MOVE" "$t" "$cpu" "$((kb / 1024))" "$detail"
done

#!/usr/bin/env bash
# The main job on the bundled sample cluster: build snmove, then on a scratch copy of
# fixtures/small show the plan of moving rack1 to service node sn2, move it for real (database
# only: -i, and xCAT's makeconservercf/nodeset are printed when they are not installed), show
# the tables afterwards, undo the move from its journal, and check that every table is
# byte-identical to before. The repository's fixtures are never written.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked -q -p snmove -p xcattab
bin="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/release"
export PATH="$bin:$PATH"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r fixtures/small "$work/db"
cp -r fixtures/small "$work/before"
db="CSV:$work/db"

show() {
    printf '\n$ %s\n' "$*" | sed "s#$work#\$WORK#g"
    local rc=0
    "$@" 2>&1 | sed "s#$work#\$WORK#g" || rc=$?
    [ "$rc" -eq 0 ] || echo "(exit status $rc)"
}

show snmove --db "$db" rack1 -d sn2 -D sn2-c --dry-run
show snmove --db "$db" rack1 -d sn2 -D sn2-c -i --journal-dir "$work/journal"
show nodels --db "$db" rack1 noderes.servicenode noderes.xcatmaster nodehm.conserver
journal=$(ls "$work"/journal/*.json)
show snmove --db "$db" --undo "$journal" --journal-dir "$work/journal"
printf '\n$ diff -r before after-undo\n'
if diff -r -x '.*' "$work/before" "$work/db"; then
    echo "every table is byte-identical to before the move"
else
    echo "the tables differ after undo" >&2
    exit 1
fi

# Sourced by the benchmark scripts (bash): a private PostgreSQL server for one run.
#
#   . scripts/private-pg.sh
#   private_pg_start "$WORK"     # initdb into $WORK/pg, listen on a Unix socket in $WORK only
#   ... "${AS[@]}" "$PGBIN/createdb" -h "$WORK" -p "$PORT" -U postgres xcatdb ...
#   (an EXIT trap stops the server and removes $WORK)
#
# Sets PGBIN (the newest /usr/lib/postgresql/*/bin), AS (runs a command as user postgres when we
# are root, else as ourselves) and PORT. Default settings (fsync on), trust authentication on
# the private socket. Needs Debian's postgresql package.

private_pg_start() {
    PG_WORK=$1
    chmod 755 "$PG_WORK"
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -n "$PGBIN" ] || { echo "PostgreSQL server binaries not found: apt-get install postgresql" >&2; exit 1; }
    AS=()
    if [ "$(id -u)" = 0 ]; then AS=(runuser -u postgres --); chown postgres "$PG_WORK"; fi
    PORT=$(( 20000 + RANDOM % 20000 ))
    trap private_pg_cleanup EXIT
    "${AS[@]}" "$PGBIN/initdb" -D "$PG_WORK/pg" -U postgres -A trust -E UTF8 --locale=C --no-instructions >/dev/null
    "${AS[@]}" "$PGBIN/pg_ctl" -D "$PG_WORK/pg" -l "$PG_WORK/pg/log" -w \
        -o "-k $PG_WORK -p $PORT -c listen_addresses=''" start >/dev/null
}

private_pg_cleanup() {
    "${AS[@]}" "$PGBIN/pg_ctl" -D "$PG_WORK/pg" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$PG_WORK"
}

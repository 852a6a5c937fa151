#!/usr/bin/env bash
# Fan-out benchmark: psrun against pdsh -R ssh and ClusterShell's clush, same sshd, same run.
#
#   postscripts/bench/fanout-vs-pdsh-clush.sh [NODES] [FANOUT...]      (default: 1000 64 256)
#
# NODES loopback "nodes" (127.1.x.y) are served by one private OpenSSH sshd started here (own
# config, host key, port, authorized_keys in a temp dir; stopped on exit). Every tool runs the
# same short script once per node, with the same key, the same known_hosts and the same key
# exchange (curve25519: psrun's libssh2 uses it; OpenSSH is pinned to it, otherwise its default
# sntrup761 KEX would cost the OpenSSH-based tools ~70 ms of client CPU per node). Each tool
# checks its own output: a run only counts if all NODES nodes answered.
#
# "client CPU s" is user+system time of the tool and its children (the ssh processes of pdsh and
# clush), from /usr/bin/time; "max RSS" is the largest single process (for pdsh and clush, not
# the sum of their ssh children). The sshd's CPU (shared on the same cores) is not counted.
#
# Needs root (sshd). Installs openssh-server, pdsh and clustershell when missing. Builds psrun
# in release mode. Prints a Markdown table: wall time, nodes per second, psrun's ratio to each.
set -euo pipefail

N=${1:-1000}
shift || true
FANOUTS=("${@:-64 256}")
read -r -a FANOUTS <<<"${FANOUTS[*]}"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SCRIPT='echo hello; uname -r'
# e.g. TOOLS=psrun for a 10,000-node run of psrun alone; add psrun-J to go through a jump host
TOOLS=${TOOLS:-psrun pdsh clush}

need=""
for p in openssh-server pdsh clustershell; do
    dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
done
if [ -n "$need" ]; then
    echo "installing:$need" >&2
    apt-get install -y -qq $need >/dev/null
fi

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
(cd "$ROOT" && cargo build -q --release -p postscripts --bin psrun)
PSRUN=$CARGO_TARGET_DIR/release/psrun

T=$(mktemp -d /tmp/psbench.XXXXXX)
SSHD_PID=""
cleanup() {
    [ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null && wait "$SSHD_PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey"
ssh-keygen -q -t ed25519 -N '' -f "$T/client"
cp "$T/client.pub" "$T/authorized_keys"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p /run/sshd
cat >"$T/sshd_config" <<EOF
Port $PORT
ListenAddress 0.0.0.0
HostKey $T/hostkey
PidFile $T/sshd.pid
AuthorizedKeysFile $T/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
PrintMotd no
PrintLastLog no
LogLevel ERROR
MaxStartups 4000:30:8000
PermitRootLogin prohibit-password
AllowUsers root@127.*
SetEnv SHLVL=1
EOF
/usr/sbin/sshd -D -f "$T/sshd_config" -E "$T/sshd.log" &
SSHD_PID=$!
for _ in $(seq 100); do
    (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break
    sleep 0.05
done

read -r ktype kblob _ <"$T/hostkey.pub"
echo "[127.1.*]:$PORT $ktype $kblob" >"$T/known_hosts"
cat >"$T/ssh_config" <<EOF
Host *
  Port $PORT
  User root
  IdentityFile $T/client
  IdentitiesOnly yes
  UserKnownHostsFile $T/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  ConnectTimeout 10
  KexAlgorithms curve25519-sha256
  LogLevel ERROR
EOF
: >"$T/hosts"
for ((i = 0; i < N; i++)); do
    echo "127.1.$((i / 250)).$((i % 250 + 1))" >>"$T/hosts"
done
NODESET=$(paste -sd, "$T/hosts")

now() { date +%s.%N; }
TIME="/usr/bin/time -f %U+%S+%M -o $T/time"
declare -A WALL OK CPU RSS
run_tool() { # tool fanout
    local tool=$1 f=$2 t0 t1 ok
    t0=$(now)
    case $tool in
    psrun)
        $TIME "$PSRUN" -H "$T/hosts" -p "$PORT" -i "$T/client" --known-hosts "$T/known_hosts" \
            -f "$f" -q --no-gather --no-progress -c "$SCRIPT" >"$T/out" 2>"$T/err" || true
        t1=$(now)
        ok=$(awk '/^ok:/ {print $2}' "$T/out")
        ;;
    psrun-J)
        # every node through one "service node" (jump host) on the same sshd
        $TIME "$PSRUN" -H "$T/hosts" -p "$PORT" -i "$T/client" --known-hosts "$T/known_hosts" \
            -J "127.1.255.250:$PORT" -f "$f" -q --no-gather --no-progress -c "$SCRIPT" >"$T/out" 2>"$T/err" || true
        t1=$(now)
        ok=$(awk '/^ok:/ {print $2}' "$T/out")
        ;;
    pdsh)
        PDSH_SSH_ARGS_APPEND="-F $T/ssh_config" $TIME pdsh -R ssh -f "$f" -w "^$T/hosts" "$SCRIPT" >"$T/out" 2>"$T/err" || true
        t1=$(now)
        ok=$(grep -c ': hello$' "$T/out" || true)
        ;;
    clush)
        $TIME clush -f "$f" -o "-F $T/ssh_config" -w "$NODESET" "$SCRIPT" >"$T/out" 2>"$T/err" || true
        t1=$(now)
        ok=$(grep -c ': hello$' "$T/out" || true)
        ;;
    esac
    WALL[$tool,$f]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    OK[$tool,$f]=$ok
    CPU[$tool,$f]=$(awk -F+ 'END { printf "%.1f", $1 + $2 }' "$T/time")
    RSS[$tool,$f]=$(awk -F+ 'END { printf "%.0f", $3 / 1024 }' "$T/time")
    if [ "$ok" != "$N" ]; then
        echo "warning: $tool -f $f: only $ok of $N nodes answered; first errors:" >&2
        head -5 "$T/err" >&2
    fi
}

for f in "${FANOUTS[@]}"; do
    for tool in $TOOLS; do
        run_tool "$tool" "$f"
    done
done

echo
echo "$N loopback nodes, script \`$SCRIPT\`, one sshd, $(nproc) cores; $(date -u +%Y-%m-%d)"
echo
echo "| fanout | tool | wall s | nodes/s | ok | client CPU s | max RSS MB | psrun speed-up |"
echo "|---|---|---|---|---|---|---|---|"
for f in "${FANOUTS[@]}"; do
    for tool in $TOOLS; do
        awk -v f="$f" -v t="$tool" -v w="${WALL[$tool,$f]}" -v p="${WALL[psrun,$f]}" -v n="$N" -v ok="${OK[$tool,$f]}" \
            -v cpu="${CPU[$tool,$f]}" -v rss="${RSS[$tool,$f]}" \
            'BEGIN { printf "| %s | %s | %.1f | %.0f | %s | %s | %s | %.2fx |\n", f, t, w, n / w, ok, cpu, rss, w / p }'
    done
done

# Helpers shared by the end-to-end suites (tests/e2e/run.sh, tests/e2e/plugin.sh), sourced after
# WORK and LOGS are set: check results, processes stopped on exit, logs of each command run.
# E2E_NAME prefixes the suite's notes.

passed=0
failed=0
started=$SECONDS
ok() {
    echo "ok: $*"
    passed=$((passed + 1))
}
fail() {
    echo "FAIL: $*"
    failed=$((failed + 1))
}
note() { echo "${E2E_NAME:-e2e}: $*"; }
summary() { echo "$passed passed, $failed failed"; }
# a failure the rest of the suite cannot go on without
die() {
    fail "$*"
    summary
    exit 1
}
# show the end of a log, indented, under a failure
show() {
    local f
    for f in "$@"; do
        [ -s "$f" ] || continue
        echo "  --- ${f#"$WORK"/} (last lines)"
        tail -n 15 "$f" | sed 's/^/  | /'
    done
}

# ---------------------------------------------------------------------------------------------
# Processes: everything started here is stopped by its own pid on exit, also on failure.
PIDS=()
OWN_POLICY_RC=
stop_pid() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || {
        wait "$pid" 2>/dev/null || true
        return 0
    }
    kill "$pid" 2>/dev/null || true
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    for pid in "${PIDS[@]}"; do
        stop_pid "$pid"
    done
    [ -n "$OWN_POLICY_RC" ] && rm -f /usr/sbin/policy-rc.d
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for_line FILE REGEX PID SECONDS: print the first line of FILE matching REGEX, as soon as it
# is written; fail when PID dies first or the time runs out
wait_for_line() {
    local file=$1 re=$2 pid=$3 deadline=$((SECONDS + $4)) line
    while :; do
        if line=$(grep -m1 -E "$re" "$file" 2>/dev/null); then
            printf '%s\n' "$line"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || return 1
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.05
    done
}

# run NAME SECONDS CMD...: run CMD with stdout/stderr in $LOGS/NAME.{out,err}; sets RC
RC=0
run() {
    local name=$1 secs=$2
    shift 2
    set +e
    timeout -k 5 "$secs" "$@" >"$LOGS/$name.out" 2>"$LOGS/$name.err"
    RC=$?
    set -e
    [ "$RC" -ne 124 ] || echo "  ($name timed out after ${secs}s)"
}

# the lines of Ansible's output that a clean run never prints
NOISE='^\[(WARNING|ERROR|DEPRECATION WARNING)\]|^ERROR!|^\[DEPRECATION'
noise() {
    grep -h -E "$NOISE" "$LOGS/$1.out" "$LOGS/$1.err" 2>/dev/null | head -n 5 || true
}

# start_sshd: a private sshd on a free high port, with its own host key, client key and
# authorized_keys in $WORK/sshd, accepting $(id -un) from 127.0.0.0/8 only; sets SSHD_DIR,
# SSH_USER, SSH_PORT, SSHD_PID (stopped on exit) and SSH_OPTS
start_sshd() {
    SSHD_DIR=$WORK/sshd
    mkdir -m 700 "$SSHD_DIR"
    ssh-keygen -q -t ed25519 -N '' -C e2e-host -f "$SSHD_DIR/host_ed25519"
    ssh-keygen -q -t ed25519 -N '' -C e2e-client -f "$SSHD_DIR/client_ed25519"
    cp "$SSHD_DIR/client_ed25519.pub" "$SSHD_DIR/authorized_keys"
    chmod 600 "$SSHD_DIR/authorized_keys"
    if [ "$(id -u)" = 0 ]; then
        mkdir -p /run/sshd # sshd's privilege separation directory
        chmod 755 /run/sshd
    fi
    SSH_USER=$(id -un)
    free_port() {
        "${VPY:-python3}" -c 'import socket; s = socket.socket(); s.bind(("0.0.0.0", 0)); print(s.getsockname()[1])'
    }
    SSHD_PID=
    for attempt in 1 2 3; do
        SSH_PORT=$(free_port)
        [ "$SSH_PORT" -gt 1024 ] || continue
        cat >"$SSHD_DIR/sshd_config" <<EOF
Port $SSH_PORT
ListenAddress 0.0.0.0
HostKey $SSHD_DIR/host_ed25519
PidFile $SSHD_DIR/sshd.pid
AuthorizedKeysFile $SSHD_DIR/authorized_keys
AllowUsers $SSH_USER@127.0.0.0/8
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
HostbasedAuthentication no
UsePAM no
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
MaxStartups 200
MaxSessions 50
LoginGraceTime 30
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
PermitTunnel no
Subsystem sftp internal-sftp
LogLevel INFO
EOF
        /usr/sbin/sshd -t -f "$SSHD_DIR/sshd_config" >"$LOGS/sshd-check.log" 2>&1 ||
            { show "$LOGS/sshd-check.log"; die "sshd rejects the suite's sshd_config"; }
        /usr/sbin/sshd -D -e -f "$SSHD_DIR/sshd_config" >"$LOGS/sshd.log" 2>&1 &
        pid=$!
        if wait_for_line "$LOGS/sshd.log" "Server listening on 0\.0\.0\.0 port $SSH_PORT" "$pid" 30 >/dev/null; then
            SSHD_PID=$pid
            PIDS+=("$pid")
            break
        fi
        stop_pid "$pid"
        cp "$LOGS/sshd.log" "$LOGS/sshd-attempt-$attempt.log"
    done
    [ -n "$SSHD_PID" ] || { show "$LOGS/sshd.log"; die "the private sshd did not start"; }
    SSH_OPTS=(-F /dev/null -o ControlMaster=no -o ControlPath=none -o UserKnownHostsFile=/dev/null
        -o StrictHostKeyChecking=no -o IdentitiesOnly=yes -o BatchMode=yes -o LogLevel=ERROR -o ConnectTimeout=20)
}

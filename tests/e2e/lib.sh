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

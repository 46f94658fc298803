#!/usr/bin/env bash
# End-to-end suite: the release inventory binary, run by a real Ansible (ansible-core 2.19) against
# the project's ECS simulator, pinging every host over real SSH to a private sshd, all on loopback.
# Needs no cloud access; installs what it needs (a throw-away virtualenv with ansible-core and the
# official Aliyun Python SDK, openssh-server from Debian's packages when /usr/sbin/sshd is missing).
#
#   bash tests/e2e/run.sh
#
# The checks (each prints `ok: ...` or `FAIL: ...`; the last line is `N passed, M failed`):
#   the binary's own --list and --host; ansible-inventory --list (exactly the hosts and groups that
#   e2e.py computes from the fleet file) and --graph, with no [WARNING]/[ERROR]/[DEPRECATION WARNING];
#   alicloud_inventory --graph [GROUP] byte-identical to ansible-inventory --graph [GROUP], with the
#   default ini and with nested groups; ansible -m ping to all, to a tag group and to a region group
#   over SSH; each host reached at its own 127.x.y.z; an inventory over three more accounts (two
#   reached by a role, one by an aliyun CLI profile): the binary's --list, ansible-inventory --list
#   and --graph with no warning, and a ping of one account_<alias> group reaching exactly that
#   account's hosts; constructed groups and variables (every keyed_groups option, compose with
#   native types, conditional groups, strict on and off; every supported filter and test, with
#   ansible-core 2.19 and the newest) equal to what Ansible's own constructed
#   plugin makes over our plain output, and a plugin-style alicloud.yml through ALICLOUD_INI_PATH;
#   cron-style --refresh-cache in a loop while 20 ansible-inventory --list and 200
#   direct --list runs read the cache; private cache files; a wrong secret failing cleanly without
#   touching the cache; the official Aliyun Python SDK against the simulator (GET and POST signing);
#   a fleet with template text in a tag, the name, the description and a nested field, printed and
#   rendered by a playbook with ansible-core 2.19 and the newest ansible-core (Python >= 3.12),
#   none of it run.
#
# Environment (all optional):
#   E2E_SKIP_BUILD=1       use the binaries already built instead of `cargo build --release --bins`
#   E2E_INVENTORY_BIN, E2E_SIMULATOR_BIN   other binaries to test (default: the release ones)
#   E2E_PYTHON             the Python (>= 3.11) for the virtualenv (default /usr/bin/python3)
#   E2E_NEW_PYTHON         the Python (>= 3.12) for the newest ansible-core (default: pyenv's newest)
#   E2E_REGIONS, E2E_INSTANCES, E2E_SEED   the generated fleet (default 3, 48, 4242)
# Generated files, logs and the virtualenv live in tests/e2e/.work/ (git-ignored).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=$HERE/.work
LOGS=$WORK/logs
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
INV=${E2E_INVENTORY_BIN:-$TARGET/release/alicloud_inventory}
SIM=${E2E_SIMULATOR_BIN:-$TARGET/release/ecs-simulator}
REGIONS=${E2E_REGIONS:-3}
INSTANCES=${E2E_INSTANCES:-48}
SEED=${E2E_SEED:-4242}
FORKS=20
READERS=20
REQUIREMENTS=("ansible-core>=2.19,<2.20" "aliyun-python-sdk-core>=2.13,<3" "aliyun-python-sdk-ecs>=4.24,<5")

export LC_ALL=C.UTF-8 LANG=C.UTF-8 # Ansible refuses a non-UTF-8 locale
export PYTHONDONTWRITEBYTECODE=1

E2E_NAME=e2e
# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"
# py CHECK ARGS...: run an e2e.py check; its problems go to $LOGS/check.err
py() {
    "$VPY" "$HERE/e2e.py" "$@" 2>"$LOGS/check.err"
}

mkdir -p "$WORK"
rm -rf "$LOGS" "$WORK/cache" "$WORK/cache-wrong" "$WORK/cache-accounts" "$WORK/sshd" "$WORK/ansible" "$WORK/concurrent" \
    "$WORK/constructed" "$WORK/cache-constructed"
mkdir -p "$LOGS"

# ---------------------------------------------------------------------------------------------
# 1. What the suite needs: sshd, a virtualenv with Ansible and the SDK, the release binaries.
if [ ! -x /usr/sbin/sshd ] || ! command -v ssh >/dev/null || ! command -v ssh-keygen >/dev/null; then
    [ "$(id -u)" = 0 ] || die "openssh-server is not installed and this is not root: apt-get install openssh-server"
    note "installing openssh-server from Debian's packages"
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        # keep the package from starting the system's sshd on port 22
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        OWN_POLICY_RC=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -q && apt-get install -y -q --no-install-recommends openssh-server openssh-client; } \
        >"$LOGS/apt.log" 2>&1 || { show "$LOGS/apt.log"; die "apt-get install openssh-server failed"; }
    [ -n "$OWN_POLICY_RC" ] && rm -f /usr/sbin/policy-rc.d && OWN_POLICY_RC=
fi

# the virtualenv's Python: E2E_PYTHON, else Debian's /usr/bin/python3, else python3 on PATH;
# the first one that is >= 3.11 (ansible-core 2.19 needs it) and makes a virtualenv with pip
VENV=$WORK/venv
VPY=$VENV/bin/python
venv_ok() {
    [ "$(cat "$VENV/.e2e-stamp" 2>/dev/null)" = "$1" ] && "$VPY" -c 'import ansible, aliyunsdkcore, aliyunsdkecs' 2>/dev/null
}
made=
: >"$LOGS/venv.log"
for PY in ${E2E_PYTHON:-/usr/bin/python3 python3}; do
    command -v "$PY" >/dev/null || continue
    "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || continue
    STAMP="${REQUIREMENTS[*]} / $(command -v "$PY") $("$PY" -c 'import sys; print(sys.version.split()[0])')"
    if venv_ok "$STAMP"; then
        made=1
        break
    fi
    note "creating the virtualenv with $PY (${REQUIREMENTS[*]})"
    rm -rf "$VENV"
    if "$PY" -m venv "$VENV" >>"$LOGS/venv.log" 2>&1 &&
        "$VENV/bin/pip" install -q --disable-pip-version-check "${REQUIREMENTS[@]}" >>"$LOGS/venv.log" 2>&1; then
        printf '%s\n' "$STAMP" >"$VENV/.e2e-stamp"
        made=1
        break
    fi
done
[ -n "$made" ] || { show "$LOGS/venv.log"; die "no Python >= 3.11 made a virtualenv with ${REQUIREMENTS[*]} (set E2E_PYTHON)"; }
# The newest ansible-core pip installs (it needs Python >= 3.12): E2E_NEW_PYTHON, else the newest
# pyenv Python >= 3.12, else python3.13 or python3.12 on PATH.
NEW_VENV=$WORK/venv-newest
made=
for PY in ${E2E_NEW_PYTHON:-} $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python 2>/dev/null | sort -rV) python3.13 python3.12; do
    command -v "$PY" >/dev/null || continue
    "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null || continue
    # made again each day, so that a new release of ansible-core is picked up
    STAMP="ansible-core newest $(date +%F) / $(command -v "$PY")"
    if [ "$(cat "$NEW_VENV/.e2e-stamp" 2>/dev/null)" = "$STAMP" ] && "$NEW_VENV/bin/python" -c 'import ansible' 2>/dev/null; then
        made=1
        break
    fi
    note "creating the virtualenv of the newest ansible-core with $PY"
    rm -rf "$NEW_VENV"
    if "$PY" -m venv "$NEW_VENV" >>"$LOGS/venv.log" 2>&1 &&
        "$NEW_VENV/bin/pip" install -q --disable-pip-version-check --upgrade ansible-core >>"$LOGS/venv.log" 2>&1; then
        printf '%s\n' "$STAMP" >"$NEW_VENV/.e2e-stamp"
        made=1
        break
    fi
done
[ -n "$made" ] || { show "$LOGS/venv.log"; die "no Python >= 3.12 made a virtualenv with the newest ansible-core (set E2E_NEW_PYTHON)"; }
note "newest: ansible-core $("$NEW_VENV/bin/python" -c 'from ansible.release import __version__; print(__version__)')"
ansible_version=$("$VENV/bin/ansible" --version)
note "${ansible_version%%$'\n'*}, $("$VPY" -c 'import aliyunsdkcore, aliyunsdkecs; print("aliyun-python-sdk-core", aliyunsdkcore.__version__, "/ aliyun-python-sdk-ecs", aliyunsdkecs.__version__)')"

if [ -z "${E2E_SKIP_BUILD:-}" ]; then
    note "cargo build --release --bins"
    (cd "$ROOT" && cargo build --release --bins) >"$LOGS/cargo-build.log" 2>&1 ||
        { show "$LOGS/cargo-build.log"; die "cargo build --release --bins failed"; }
fi
[ -x "$INV" ] || die "no inventory binary at $INV"
[ -x "$SIM" ] || die "no simulator binary at $SIM"

# From here on nothing may reach out: keep every request on loopback.
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
# and no setting from the caller's environment may change what is tested
for v in $(compgen -e | grep -E '^(ANSIBLE_|ALICLOUD_|ALIBABA_CLOUD_)' || true); do unset "$v"; done

# ---------------------------------------------------------------------------------------------
# 2. The fleet, the expectation, the simulator.
"$SIM" generate --regions "$REGIONS" --instances "$INSTANCES" --seed "$SEED" --loopback \
    >"$WORK/fleet.json" 2>"$LOGS/generate.err" ||
    { show "$LOGS/generate.err"; die "ecs-simulator generate failed"; }
"$VPY" "$HERE/e2e.py" expect "$WORK/fleet.json" >"$WORK/expected.json" 2>"$LOGS/expect.err" ||
    { show "$LOGS/expect.err"; die "the generated fleet is not what the suite needs"; }
note "$(cat "$LOGS/expect.err")"
read -r NHOSTS TAG_GROUP REGION_GROUP FIRST_REGION SAMPLE_HOST < <("$VPY" -c '
import json, sys
e = json.load(open(sys.argv[1]))
print(len(e["hosts"]), e["tag_target"], e["region_target"], e["regions"][0], sorted(e["hosts"])[len(e["hosts"]) // 2])
' "$WORK/expected.json")

# Three more accounts for the multi-account checks, each with its own fleet and addresses; the
# account above is the control account: it may assume the roles of prod and staging, and team is
# reached with a key of its own, through an aliyun CLI profile.
CONTROL_ID=1000000000000001
ACCOUNT_SPECS=()
SIM_ACCOUNTS=()
for spec in prod:2000000000000011:1000 staging:2000000000000012:2000 team:2000000000000013:3000; do
    IFS=: read -r alias id offset <<<"$spec"
    "$SIM" generate --regions 2 --instances 16 --seed $((SEED + offset)) --loopback --address-offset "$offset" \
        >"$WORK/fleet-$alias.json" 2>"$LOGS/generate.err" ||
        { show "$LOGS/generate.err"; die "ecs-simulator generate failed"; }
    ACCOUNT_SPECS+=("$alias:$id:$WORK/fleet-$alias.json")
    SIM_ACCOUNTS+=(--account "$id:$WORK/fleet-$alias.json")
done
"$VPY" "$HERE/e2e.py" expect-accounts "${ACCOUNT_SPECS[@]}" >"$WORK/expected-accounts.json" 2>"$LOGS/expect.err" ||
    { show "$LOGS/expect.err"; die "the generated account fleets are not what the suite needs"; }
note "accounts: $(cat "$LOGS/expect.err")"
TEAM_AK=E2ETeamAccessKeyId
TEAM_SECRET=e2e$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')

AK=E2ETestAccessKeyId
SECRET=e2e$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
"$SIM" serve --fleet "$WORK/fleet.json" --listen 127.0.0.1:0 --access-key "$AK:$SECRET" \
    --account-id "$CONTROL_ID" "${SIM_ACCOUNTS[@]}" --account-key "2000000000000013:$TEAM_AK:$TEAM_SECRET" \
    --role-arn "acs:ram::2000000000000011:role/inventory-reader=$CONTROL_ID" \
    --role-arn "acs:ram::2000000000000012:role/inventory-reader=$CONTROL_ID" \
    >"$LOGS/simulator.out" 2>"$LOGS/simulator.err" &
SIM_PID=$!
PIDS+=("$SIM_PID")
line=$(wait_for_line "$LOGS/simulator.out" '^listening on http://' "$SIM_PID" 30) ||
    { show "$LOGS/simulator.out" "$LOGS/simulator.err"; die "the simulator did not print 'listening on http://...'"; }
ENDPOINT=${line#listening on }
ENDPOINT=${ENDPOINT%%[[:space:]]*}
ENDPOINT=${ENDPOINT%/}
note "simulator pid $SIM_PID at $ENDPOINT"

# ---------------------------------------------------------------------------------------------
# 3. A private sshd on a free high port, its own host key, client key and authorized_keys,
#    accepting root from 127.0.0.0/8 only.
start_sshd
note "sshd pid $SSHD_PID on port $SSH_PORT"
first_addr=$("$VPY" -c 'import json,sys; e=json.load(open(sys.argv[1])); print(e["hosts"][sorted(e["hosts"])[0]]["address"])' "$WORK/expected.json")
run ssh-smoke 30 ssh "${SSH_OPTS[@]}" -i "$SSHD_DIR/client_ed25519" -p "$SSH_PORT" "$SSH_USER@$first_addr" 'echo $SSH_CONNECTION'
[ "$RC" = 0 ] || { show "$LOGS/ssh-smoke.err" "$LOGS/sshd.log"; die "plain ssh to $first_addr port $SSH_PORT fails"; }

# ---------------------------------------------------------------------------------------------
# 4. The environment Ansible runs in (and passes on to the inventory script).
mkdir -p "$WORK/ansible/home" "$WORK/ansible/tmp" "$WORK/ansible/remote-tmp" "$WORK/concurrent"
cat >"$WORK/alicloud.ini" <<EOF
# written by tests/e2e/run.sh
[ecs]
regions = all
cache_path = $WORK/cache
cache_max_age = 300
EOF
chmod 600 "$WORK/alicloud.ini"
cat >"$WORK/accounts.ini" <<EOF
# written by tests/e2e/run.sh: one inventory over three accounts
[ecs]
regions = all
cache_path = $WORK/cache-accounts
cache_max_age = 300
accounts = [{alias: prod, role_arn: "acs:ram::2000000000000011:role/inventory-reader"},
    {alias: staging, role_arn: "acs:ram::2000000000000012:role/inventory-reader"},
    {alias: team, profile: team}]

[credentials]
alicloud_shared_credentials_file = $WORK/aliyun-config.json
EOF
printf '{"current": "", "profiles": [{"name": "team", "mode": "AK", "access_key_id": "%s", "access_key_secret": "%s", "region_id": "%s"}]}\n' \
    "$TEAM_AK" "$TEAM_SECRET" "$FIRST_REGION" >"$WORK/aliyun-config.json"
chmod 600 "$WORK/accounts.ini" "$WORK/aliyun-config.json"
printf '[defaults]\n' >"$WORK/ansible/ansible.cfg" # shields the suite from any other ansible.cfg
export ALICLOUD_INI_PATH=$WORK/alicloud.ini
export ALICLOUD_ACCESS_KEY=$AK
export ALICLOUD_SECRET_KEY=$SECRET
export ALICLOUD_REGION=$FIRST_REGION
export ALICLOUD_ECS_ENDPOINT=$ENDPOINT
export ALICLOUD_STS_ENDPOINT=$ENDPOINT
export ANSIBLE_CONFIG=$WORK/ansible/ansible.cfg
export ANSIBLE_HOME=$WORK/ansible/home
export ANSIBLE_LOCAL_TEMP=$WORK/ansible/tmp
export ANSIBLE_REMOTE_TEMP=$WORK/ansible/remote-tmp
export ANSIBLE_HOST_KEY_CHECKING=False
export ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3
export ANSIBLE_DEPRECATION_WARNINGS=True
export ANSIBLE_NOCOLOR=1
export ANSIBLE_PIPELINING=True
export ANSIBLE_RETRY_FILES_ENABLED=False
export ANSIBLE_TIMEOUT=30
export ANSIBLE_SSH_ARGS="${SSH_OPTS[*]}"
ANSIBLE=$VENV/bin/ansible
ANSIBLE_INVENTORY=$VENV/bin/ansible-inventory
CONN=(-e "ansible_port=$SSH_PORT" -e "ansible_user=$SSH_USER" -e "ansible_ssh_private_key_file=$SSHD_DIR/client_ed25519")
EXP=$WORK/expected.json
cd "$ROOT"

# ---------------------------------------------------------------------------------------------
# 5. The checks.

# The binary on its own, as cron and Ansible run it: one JSON object, nothing on stderr.
run inventory-list 60 "$INV" --list
if [ "$RC" != 0 ]; then
    fail "alicloud_inventory --list exited $RC"
    show "$LOGS/inventory-list.err"
elif [ -s "$LOGS/inventory-list.err" ]; then
    fail "alicloud_inventory --list wrote to stderr on success (Ansible shows it as [ERROR])"
    show "$LOGS/inventory-list.err"
elif ! py check-raw "$EXP" "$LOGS/inventory-list.out"; then
    fail "alicloud_inventory --list is not the fleet's inventory"
    show "$LOGS/check.err"
else
    ok "alicloud_inventory --list: the $NHOSTS running hosts, their groups and addresses, nothing on stderr"
fi

run inventory-host 60 "$INV" --host "$SAMPLE_HOST"
HOST_RC=$RC
run inventory-host-unknown 60 "$INV" --host i_no_such_host
if [ "$RC" != 0 ] || [ "$(tr -d ' \n' <"$LOGS/inventory-host-unknown.out")" != "{}" ] || [ -s "$LOGS/inventory-host-unknown.err" ]; then
    fail "alicloud_inventory --host i_no_such_host: exit $RC, expected {} and exit 0"
    show "$LOGS/inventory-host-unknown.out" "$LOGS/inventory-host-unknown.err"
elif [ "$HOST_RC" != 0 ]; then
    fail "alicloud_inventory --host $SAMPLE_HOST exited $HOST_RC"
    show "$LOGS/inventory-host.err"
elif [ ! -s "$LOGS/inventory-list.out" ] || ! py check-host "$EXP" "$LOGS/inventory-list.out" "$LOGS/inventory-host.out" "$SAMPLE_HOST" ||
    [ -s "$LOGS/inventory-host.err" ]; then
    fail "alicloud_inventory --host $SAMPLE_HOST is not its hostvars from --list"
    show "$LOGS/check.err" "$LOGS/inventory-host.err"
else
    ok "alicloud_inventory --host: $SAMPLE_HOST's hostvars, {} for an unknown host"
fi

run ansible-inventory-list 120 "$ANSIBLE_INVENTORY" -i "$INV" --list
if [ "$RC" != 0 ]; then
    fail "ansible-inventory --list exited $RC"
    show "$LOGS/ansible-inventory-list.err"
elif [ -n "$(noise ansible-inventory-list)" ]; then
    fail "ansible-inventory --list printed: $(noise ansible-inventory-list)"
elif ! py check-list "$EXP" "$LOGS/ansible-inventory-list.out"; then
    fail "ansible-inventory --list does not show the fleet's hosts and groups"
    show "$LOGS/check.err"
else
    ok "ansible-inventory --list: exactly the $NHOSTS hosts and $("$VPY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["groups"]))' "$EXP") groups, right addresses, no warning"
fi

run ansible-inventory-graph 120 "$ANSIBLE_INVENTORY" -i "$INV" --graph
if [ "$RC" != 0 ]; then
    fail "ansible-inventory --graph exited $RC"
    show "$LOGS/ansible-inventory-graph.err"
elif [ -n "$(noise ansible-inventory-graph)" ]; then
    fail "ansible-inventory --graph printed: $(noise ansible-inventory-graph)"
elif ! py check-graph "$EXP" "$LOGS/ansible-inventory-graph.out"; then
    fail "ansible-inventory --graph is wrong"
    show "$LOGS/check.err"
else
    ok "ansible-inventory --graph: every group, the $NHOSTS hosts under @alicloud, no warning"
fi

# --graph [GROUP]: byte for byte what ansible-inventory --graph [GROUP] prints, from the cache.
# graph_check NAME INI GROUP...: for each GROUP ("" = the whole tree), ansible-inventory's graph
# against ours, with INI as the configuration
graph_check() {
    local name=$1 ini=$2 group t0 ms_ansible ms_ours n=0 lines=0 shown=
    shift 2
    for group in "$@"; do
        n=$((n + 1))
        t0=$(date +%s%N)
        run "$name-$n-ansible" 120 env ALICLOUD_INI_PATH="$ini" "$ANSIBLE_INVENTORY" -i "$INV" --graph $group
        ms_ansible=$((($(date +%s%N) - t0) / 1000000))
        if [ "$RC" != 0 ] || [ -n "$(noise "$name-$n-ansible")" ]; then
            fail "ansible-inventory --graph $group with ${ini##*/} exited $RC or warned"
            show "$LOGS/$name-$n-ansible.err"
            return
        fi
        t0=$(date +%s%N)
        run "$name-$n-ours" 60 env ALICLOUD_INI_PATH="$ini" "$INV" --graph $group
        ms_ours=$((($(date +%s%N) - t0) / 1000000))
        if [ "$RC" != 0 ] || [ -s "$LOGS/$name-$n-ours.err" ]; then
            fail "alicloud_inventory --graph $group with ${ini##*/} exited $RC or wrote to stderr"
            show "$LOGS/$name-$n-ours.err"
            return
        fi
        if ! cmp -s "$LOGS/$name-$n-ansible.out" "$LOGS/$name-$n-ours.out"; then
            fail "alicloud_inventory --graph $group with ${ini##*/} differs from ansible-inventory --graph $group"
            diff "$LOGS/$name-$n-ansible.out" "$LOGS/$name-$n-ours.out" | head -n 10 | sed 's/^/  | /'
            return
        fi
        if [ "$(wc -l <"$LOGS/$name-$n-ours.out")" -lt 2 ]; then
            fail "--graph $group with ${ini##*/} drew a single line"
            return
        fi
        lines=$((lines + $(wc -l <"$LOGS/$name-$n-ours.out")))
        shown="$shown ${group:-(all)} (${ms_ansible} / ${ms_ours} ms)"
    done
    ok "alicloud_inventory --graph [GROUP] is byte-identical to ansible-inventory's with ${ini##*/} ($lines lines; ansible-inventory / ours):$shown"
}
graph_check graph "$WORK/alicloud.ini" "" "$TAG_GROUP" "$REGION_GROUP" alicloud
cat >"$WORK/nested.ini" <<EOF
# written by tests/e2e/run.sh: nested groups, every state, more groups
[ecs]
regions = all
cache_path = $WORK/cache
cache_max_age = 300
nested_groups = True
all_instances = True
group_by_instance_state = True
group_by_os_type = True
group_by_charge_type = True
EOF
chmod 600 "$WORK/nested.ini"
graph_check graph-nested "$WORK/nested.ini" "" regions tags zones "$REGION_GROUP"

# Constructed groups and variables: ours against Ansible's own constructed plugin run over our
# plain output, with the same entries (tests/e2e/e2e.py, ENTRIES)
CON=$WORK/constructed
mkdir -p "$CON"
"$VPY" "$HERE/e2e.py" constructed-configs "$CON" "$WORK/cache-constructed"
run constructed-plain 60 "$INV" --list
printf '#!/bin/sh\nexec cat %s\n' "$LOGS/constructed-plain.out" >"$CON/plain.sh"
chmod +x "$CON/plain.sh"
for mode in lenient strict; do
    run "ansible-constructed-$mode" 300 env ANSIBLE_TRANSFORM_INVALID_GROUP_CHARS=always \
        "$ANSIBLE_INVENTORY" -i "$CON/plain.sh" -i "$CON/$mode.constructed.yml" --list
    A_RC=$RC
    run "ours-constructed-$mode" 300 env ALICLOUD_INI_PATH="$CON/$mode.alicloud.yml" \
        "$ANSIBLE_INVENTORY" -i "$INV" --list
    if [ "$A_RC" != 0 ] || [ "$RC" != 0 ]; then
        fail "constructed ($mode): Ansible's run exited $A_RC, ours $RC"
        show "$LOGS/ansible-constructed-$mode.err" "$LOGS/ours-constructed-$mode.err"
    elif [ -n "$(noise "ansible-constructed-$mode")$(noise "ours-constructed-$mode")" ]; then
        fail "constructed ($mode): warnings: $(noise "ansible-constructed-$mode") $(noise "ours-constructed-$mode")"
    elif ! py check-constructed "$LOGS/ansible-constructed-$mode.out" "$LOGS/ours-constructed-$mode.out" "$CON/$mode.json"; then
        fail "constructed ($mode): ours differs from Ansible's constructed plugin"
        show "$LOGS/check.err"
    else
        ok "constructed ($mode): every group, child and composed variable as Ansible's constructed plugin makes them over our plain output ($("$VPY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))) - 1)' "$LOGS/ours-constructed-$mode.out") groups), no warning"
    fi
done

# Every supported filter and test (docs/DESIGN.md "Filters and tests"; e2e.py, FILTERS) as
# composed variables, with ansible-core 2.19 and the newest
for venv in "$VENV" "$NEW_VENV"; do
    version=$("$venv/bin/python" -c 'from ansible.release import __version__; print(__version__)')
    run "ansible-filters-$version" 300 env ANSIBLE_TRANSFORM_INVALID_GROUP_CHARS=always \
        "$venv/bin/ansible-inventory" -i "$CON/plain.sh" -i "$CON/filters.constructed.yml" --list
    A_RC=$RC
    run "ours-filters-$version" 300 env ALICLOUD_INI_PATH="$CON/filters.alicloud.yml" \
        "$venv/bin/ansible-inventory" -i "$INV" --list
    if [ "$A_RC" != 0 ] || [ "$RC" != 0 ]; then
        fail "filters (ansible-core $version): Ansible's run exited $A_RC, ours $RC"
        show "$LOGS/ansible-filters-$version.err" "$LOGS/ours-filters-$version.err"
    elif [ -n "$(noise "ansible-filters-$version")$(noise "ours-filters-$version")" ]; then
        fail "filters (ansible-core $version): warnings: $(noise "ansible-filters-$version") $(noise "ours-filters-$version")"
    elif ! py check-constructed "$LOGS/ansible-filters-$version.out" "$LOGS/ours-filters-$version.out" "$CON/filters.json"; then
        fail "filters (ansible-core $version): ours differs from Ansible's constructed plugin"
        show "$LOGS/check.err"
    else
        ok "filters (ansible-core $version): $("$VPY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["compose"]))' "$CON/filters.json") composed variables over every supported filter and test, as Ansible's constructed plugin makes them on every host, no warning"
    fi
done

# strict on and an entry that fails for some hosts: both refuse, naming the same entry
run ours-strict-fail 60 env ALICLOUD_INI_PATH="$CON/strict-fail.alicloud.yml" "$INV" --list
OURS_RC=$RC
run ansible-strict-fail 300 env ANSIBLE_TRANSFORM_INVALID_GROUP_CHARS=always ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=True \
    "$ANSIBLE_INVENTORY" -i "$CON/plain.sh" -i "$CON/strict-fail.constructed.yml" --list
if [ "$OURS_RC" != 2 ] || [ -s "$LOGS/ours-strict-fail.out" ] || [ "$RC" = 0 ]; then
    fail "strict failure: ours exited $OURS_RC with $(wc -c <"$LOGS/ours-strict-fail.out") bytes on stdout (expected 2 and none), Ansible exited $RC"
    show "$LOGS/ours-strict-fail.err" "$LOGS/ansible-strict-fail.err"
elif ! py check-strict-failure "$LOGS/ours-strict-fail.err" "$LOGS/ansible-strict-fail.err" "$LOGS/ours-constructed-lenient.out"; then
    fail "strict failure: ours and Ansible's do not refuse the same entry"
    show "$LOGS/check.err"
else
    ok "strict failure: exit 2, one line ($(cut -c1-90 "$LOGS/ours-strict-fail.err")...), as Ansible refuses the entry"
fi

# the plugin-style alicloud.yml through ALICLOUD_INI_PATH, as an operator runs it
run constructed-graph 120 env ALICLOUD_INI_PATH="$CON/lenient.alicloud.yml" "$ANSIBLE_INVENTORY" -i "$INV" --graph
if [ "$RC" != 0 ]; then
    fail "ansible-inventory --graph with alicloud.yml exited $RC"
    show "$LOGS/constructed-graph.err"
elif [ -n "$(noise constructed-graph)" ]; then
    fail "ansible-inventory --graph with alicloud.yml printed: $(noise constructed-graph)"
elif ! grep -q '@zones_all:' "$LOGS/constructed-graph.out" || ! grep -q '@role_' "$LOGS/constructed-graph.out"; then
    fail "ansible-inventory --graph with alicloud.yml shows no constructed group"
    show "$LOGS/constructed-graph.out"
else
    ok "ansible-inventory -i alicloud_inventory --graph with a plugin-style alicloud.yml (ALICLOUD_INI_PATH): constructed groups shown, no warning"
fi
# and our own --graph draws the same tree, keyed groups and parent groups included
graph_check graph-constructed "$CON/lenient.alicloud.yml" "" zones_all

# ansible -m ping over real SSH, to every host and to a group (of another ini's inventory)
ping_check() { # NAME PATTERN [EXPECTED INI]
    local name=$1 pattern=$2 exp=${3:-$EXP} ini=${4:-$ALICLOUD_INI_PATH} t0=$SECONDS
    run "$name" 300 env ALICLOUD_INI_PATH="$ini" "$ANSIBLE" -i "$INV" "$pattern" -m ping -f "$FORKS" "${CONN[@]}"
    local secs=$((SECONDS - t0)) count
    count=$(grep -c ' | SUCCESS => ' "$LOGS/$name.out" || true)
    if [ "$RC" != 0 ]; then
        fail "ansible $pattern -m ping exited $RC ($count hosts answered)"
        grep -E ' \| (UNREACHABLE!|FAILED!)' "$LOGS/$name.out" | head -n 5 | sed 's/^/  | /'
        show "$LOGS/$name.err"
    elif [ -n "$(noise "$name")" ]; then
        fail "ansible $pattern -m ping printed: $(noise "$name")"
    elif ! py check-adhoc "$exp" "$LOGS/$name.out" "$pattern"; then
        fail "ansible $pattern -m ping did not reach exactly the hosts of $pattern"
        show "$LOGS/check.err"
    else
        ok "ansible $pattern -m ping: SUCCESS from all $count hosts of $pattern over SSH, no warning (${secs}s)"
    fi
}
ping_check ping-all all
ping_check ping-tag "$TAG_GROUP"
ping_check ping-region "$REGION_GROUP"

# One inventory over three accounts: the binary itself, then Ansible's view, then a ping limited
# to one account's group.
EXPA=$WORK/expected-accounts.json
NACCOUNT_HOSTS=$("$VPY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["hosts"]))' "$EXPA")
run accounts-list 60 env ALICLOUD_INI_PATH="$WORK/accounts.ini" "$INV" --list
if [ "$RC" != 0 ] || [ -s "$LOGS/accounts-list.err" ]; then
    fail "alicloud_inventory --list over three accounts: exit $RC, or stderr on success"
    show "$LOGS/accounts-list.err"
elif ! py check-raw "$EXPA" "$LOGS/accounts-list.out"; then
    fail "alicloud_inventory --list over three accounts is not the three fleets' inventory"
    show "$LOGS/check.err"
else
    ok "alicloud_inventory --list over three accounts (two roles, one profile): the $NACCOUNT_HOSTS hosts, account_<alias> groups, account hostvars"
fi
for what in list graph; do
    run "accounts-inventory-$what" 120 env ALICLOUD_INI_PATH="$WORK/accounts.ini" "$ANSIBLE_INVENTORY" -i "$INV" "--$what"
    if [ "$RC" != 0 ]; then
        fail "ansible-inventory --$what over three accounts exited $RC"
        show "$LOGS/accounts-inventory-$what.err"
    elif [ -n "$(noise "accounts-inventory-$what")" ]; then
        fail "ansible-inventory --$what over three accounts printed: $(noise "accounts-inventory-$what")"
    elif ! py "check-$what" "$EXPA" "$LOGS/accounts-inventory-$what.out"; then
        fail "ansible-inventory --$what over three accounts is wrong"
        show "$LOGS/check.err"
    else
        ok "ansible-inventory --$what over three accounts: the $NACCOUNT_HOSTS hosts, each account's group, no warning"
    fi
done
ping_check ping-account account_staging "$EXPA" "$WORK/accounts.ini"

# each host is reached at its own address: the server side of $SSH_CONNECTION
run raw-ssh-connection 300 "$ANSIBLE" -i "$INV" all -m raw -a 'echo $SSH_CONNECTION' -f "$FORKS" "${CONN[@]}"
if [ "$RC" != 0 ]; then
    fail "ansible all -m raw exited $RC"
    show "$LOGS/raw-ssh-connection.out" "$LOGS/raw-ssh-connection.err"
elif [ -n "$(noise raw-ssh-connection)" ]; then
    fail "ansible all -m raw printed: $(noise raw-ssh-connection)"
elif ! py check-ssh-connection "$EXP" "$LOGS/raw-ssh-connection.out" "$SSH_PORT"; then
    fail "hosts were not reached at their own addresses"
    show "$LOGS/check.err"
else
    ok "every host was reached over SSH at its own loopback address (ansible_host)"
fi

# cron's --refresh-cache in a loop while $READERS ansible-inventory --list (and the binary itself,
# in a tight loop) read the cache: every reader sees a whole inventory
rm -f "$WORK/concurrent/"*
t0=$SECONDS
(
    n=0
    while [ ! -e "$WORK/concurrent/stop" ] && [ "$n" -lt 2000 ]; do
        n=$((n + 1))
        if ! timeout 60 "$INV" --refresh-cache >/dev/null 2>"$WORK/concurrent/refresh.err"; then
            echo "refresh $n failed" >>"$WORK/concurrent/refresh.failed"
            cat "$WORK/concurrent/refresh.err" >>"$WORK/concurrent/refresh.failed"
        fi
        echo "$n" >"$WORK/concurrent/refresh.count"
    done
) &
REFRESH_PID=$!
PIDS+=("$REFRESH_PID")
reader_pids=()
for i in $(seq -w "$READERS"); do
    (
        set +e
        timeout 300 "$ANSIBLE_INVENTORY" -i "$INV" --list >"$WORK/concurrent/ansible-$i.out" 2>"$WORK/concurrent/ansible-$i.err"
        echo $? >"$WORK/concurrent/ansible-$i.rc"
    ) &
    reader_pids+=($!)
done
(
    set +e
    for i in $(seq -w 200); do
        timeout 60 "$INV" --list >"$WORK/concurrent/binary-$i.out" 2>"$WORK/concurrent/binary-$i.err"
        echo $? >"$WORK/concurrent/binary-$i.rc"
    done
) &
reader_pids+=($!)
for pid in "${reader_pids[@]}"; do wait "$pid" || true; done
touch "$WORK/concurrent/stop"
wait "$REFRESH_PID" || true
refreshes=$(cat "$WORK/concurrent/refresh.count" 2>/dev/null || echo 0)
if [ -e "$WORK/concurrent/refresh.failed" ]; then
    fail "--refresh-cache failed while readers ran"
    show "$WORK/concurrent/refresh.failed"
elif [ "$refreshes" -lt 5 ]; then
    fail "only $refreshes --refresh-cache runs overlapped the readers; the race was not exercised"
elif ! readers=$(py check-concurrent "$EXP" "$WORK/concurrent"); then
    fail "a reader saw a broken inventory while --refresh-cache ran"
    show "$LOGS/check.err"
else
    ok "$refreshes --refresh-cache runs overlapped $readers readers ($READERS ansible-inventory --list): every one saw all $NHOSTS hosts ($((SECONDS - t0))s)"
fi

run cache-check 30 "$VPY" "$HERE/e2e.py" check-cache "$WORK/cache" "$SECRET"
if [ "$RC" != 0 ]; then
    fail "the cache is not private or holds the secret"
    show "$LOGS/cache-check.err"
else
    ok "cache: directory 0700, files 0600, no secret in them"
fi

# a wrong secret: exit 2, stdout empty, one line naming the service's error, no secret, and the
# cache (same key: it does not depend on the secret) left as it was
sum_before=$(cd "$WORK/cache" 2>/dev/null && find . -type f -print0 | sort -z | xargs -0 sha256sum || true)
run wrong-secret 60 env ALICLOUD_SECRET_KEY="wrong$SECRET" "$INV" --refresh-cache
WRONG_RC=$RC
sum_after=$(cd "$WORK/cache" 2>/dev/null && find . -type f -print0 | sort -z | xargs -0 sha256sum || true)
run after-wrong-secret 60 "$INV" --list
err_lines=$(grep -c . "$LOGS/wrong-secret.err" || true)
# (exit 2: rejected credentials are a configuration error, docs/DESIGN.md, "Command line")
if [ "$WRONG_RC" != 2 ] || [ -s "$LOGS/wrong-secret.out" ]; then
    fail "--refresh-cache with a wrong secret: exit $WRONG_RC and $(wc -c <"$LOGS/wrong-secret.out") bytes on stdout, expected exit 2 and nothing"
    show "$LOGS/wrong-secret.err"
elif [ "$err_lines" != 1 ] || ! grep -q -E 'SignatureDoesNotMatch|InvalidAccessKeySecret' "$LOGS/wrong-secret.err"; then
    fail "--refresh-cache with a wrong secret: expected one stderr line naming SignatureDoesNotMatch, got $err_lines lines"
    show "$LOGS/wrong-secret.err"
elif grep -q -e "$SECRET" -e 'panicked' -e 'RUST_BACKTRACE' "$LOGS/wrong-secret.err"; then
    fail "--refresh-cache with a wrong secret: stderr shows the secret or a panic"
elif [ "$sum_before" != "$sum_after" ]; then
    fail "--refresh-cache with a wrong secret changed the cache"
elif [ "$RC" != 0 ] || ! py check-raw "$EXP" "$LOGS/after-wrong-secret.out"; then
    fail "--list after a failed refresh is not the whole inventory"
    show "$LOGS/check.err" "$LOGS/after-wrong-secret.err"
else
    ok "a wrong secret: exit $WRONG_RC, nothing on stdout, one stderr line ($(cut -c1-100 "$LOGS/wrong-secret.err")...), cache untouched"
fi

# the simulator speaks the real protocol: the official Python SDK, signing GET and POST
run sdk 120 "$VPY" "$HERE/e2e.py" sdk "$EXP" "${ENDPOINT#http://}" "$AK" "$SECRET"
if [ "$RC" != 0 ]; then
    fail "the official Python SDK against the simulator"
    show "$LOGS/sdk.err"
else
    ok "the official Python SDK (GET and POST) lists every region's instances with the right secret; $(tr '\n' ';' <"$LOGS/sdk.out" | sed 's/;$//')"
fi

# Cloud data is never code on the controller (README, "Security"): a fleet whose tag value,
# instance name, description and one nested field each hold a lookup('pipe', 'touch MARKER'),
# plus a compose entry copying the tag; a playbook prints them and renders them through a
# template task, with ansible-core 2.19 and with the newest ansible-core pip installs.
HOSTILE=$WORK/hostile
rm -rf "$HOSTILE"
mkdir -p "$HOSTILE/markers" "$HOSTILE/cache"
if ! HOSTILE_GROUP=$("$VPY" "$HERE/e2e.py" hostile-fleet "$WORK/fleet.json" "$HOSTILE/fleet.json" "$HOSTILE/markers" 2>"$LOGS/hostile.err"); then
    fail "could not make the hostile fleet"
    show "$LOGS/hostile.err"
else
    "$SIM" serve --fleet "$HOSTILE/fleet.json" --listen 127.0.0.1:0 --access-key "$AK:$SECRET" \
        >"$LOGS/simulator-hostile.out" 2>"$LOGS/simulator-hostile.err" &
    HOSTILE_SIM=$!
    PIDS+=("$HOSTILE_SIM")
    line=$(wait_for_line "$LOGS/simulator-hostile.out" '^listening on http://' "$HOSTILE_SIM" 30) ||
        die "the hostile fleet's simulator did not start"
    HOSTILE_ENDPOINT=${line#listening on }
    HOSTILE_ENDPOINT=${HOSTILE_ENDPOINT%%[[:space:]]*}
    cat >"$HOSTILE/alicloud.ini" <<EOF
[ecs]
regions = all
cache_path = $HOSTILE/cache
compose = {copied: ecs_tags.pwn}
EOF
    cat >"$HOSTILE/show.j2" <<'EOF'
{{ ecs_tags.pwn }}
{{ instance_name }}
{{ description }}
{{ vpc_attributes.nat_ip_address }}
{{ copied }}
EOF
    cat >"$HOSTILE/play.yml" <<'EOF'
- hosts: all
  gather_facts: false
  connection: local
  tasks:
    - debug:
        msg: "{{ ecs_tags.pwn }} | {{ instance_name }} | {{ description }} | {{ vpc_attributes.nat_ip_address }} | {{ copied }}"
    - template:
        src: "{{ playbook_dir }}/show.j2"
        dest: "{{ rendered }}"
EOF
    for venv in "$VENV" "$NEW_VENV"; do
        version=$("$venv/bin/python" -c 'from ansible.release import __version__; print(__version__)')
        rm -f "$HOSTILE/markers/"* "$HOSTILE/rendered.txt"
        run "hostile-$version" 180 env ALICLOUD_INI_PATH="$HOSTILE/alicloud.ini" ALICLOUD_ECS_ENDPOINT="${HOSTILE_ENDPOINT%/}" \
            ANSIBLE_PYTHON_INTERPRETER="$venv/bin/python" \
            "$venv/bin/ansible-playbook" -i "$INV" --limit "$HOSTILE_GROUP" -e "rendered=$HOSTILE/rendered.txt" "$HOSTILE/play.yml"
        if [ "$RC" != 0 ]; then
            fail "ansible-core $version: the playbook over the hostile fleet exited $RC"
            show "$LOGS/hostile-$version.out" "$LOGS/hostile-$version.err"
        elif ! py check-hostile "$HOSTILE/markers" "$LOGS/hostile-$version.out" "$HOSTILE/rendered.txt"; then
            fail "ansible-core $version: cloud data ran as a template on the controller"
            show "$LOGS/check.err"
        else
            ok "ansible-core $version: template text in a tag, the name, the description, a nested field and a compose copy printed and rendered as text; no marker made"
        fi
    done
fi

# both servers must have lived through the whole run (a crash would explain failures above)
for pair in "simulator:$SIM_PID" "sshd:$SSHD_PID"; do
    if ! kill -0 "${pair#*:}" 2>/dev/null; then
        set +e
        wait "${pair#*:}"
        status=$?
        set -e
        fail "the ${pair%%:*} (pid ${pair#*:}) died during the run, exit status $status"
        show "$LOGS/${pair%%:*}.err" "$LOGS/${pair%%:*}.log"
    fi
done

# ---------------------------------------------------------------------------------------------
note "$((SECONDS - started))s in all; logs in ${LOGS#"$ROOT"/}"
summary
[ "$failed" = 0 ]

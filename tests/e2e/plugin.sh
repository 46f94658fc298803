#!/usr/bin/env bash
# End-to-end suite of what Ansible users install: the wheel (binary + collection) and the Galaxy
# tarball that packaging/build.sh makes, run by real Ansible against the project's ECS simulator,
# with SSH to a private sshd on loopback, on two ansible-core versions: 2.19 (Python 3.11) and
# the newest one pip installs (Python >= 3.12).
#
#   bash tests/e2e/plugin.sh
#
# Per ansible-core version, in a fresh virtualenv holding only ansible-core:
#   the Galaxy tarball installed with `ansible-galaxy collection install -p`, the binary on PATH:
#     ansible-inventory --graph equal to alicloud_inventory --graph;
#   then the wheel pip-installed into it (the binary beside the venv's Python, PATH without it):
#     ansible-inventory -i DIR (a prod.alicloud.yml) --graph byte-identical to the binary's --graph,
#     no warning; ansible all -m ping over SSH through the plugin; a second run makes 0 API calls
#     and --flush-cache makes them again; --list --export (as AWX runs it) equal to the binary's
#     --list; ansible-doc; the script path (-i BINARY) and the README's directory layouts with no
#     warning; a fake binary: its failure is one error line, its warning an Ansible warning,
#     another version is refused with the fix, and a hostvar marked {"__ansible_unsafe": ...}
#     is printed literally by a debug task and never rendered (a marker file is never made).
# Each check prints `ok: ...` or `FAIL: ...`; the last line is `N passed, M failed`.
#
# Environment (all optional):
#   E2E_SKIP_BUILD=1          use dist/ and target/release/ecs-simulator as they are
#   PLUGIN_PYTHON_219, PLUGIN_PYTHON_NEW   the Pythons for ansible-core 2.19 and the newest
#   PLUGIN_ANSIBLE_NEW        the newest ansible-core's requirement (default ansible-core>=2.21)
# Work files and logs: tests/e2e/.work/plugin/ (git-ignored).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=$HERE/.work/plugin
LOGS=$WORK/logs
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
SIM=$TARGET/release/ecs-simulator
FORKS=20
export LC_ALL=C.UTF-8 LANG=C.UTF-8 # Ansible refuses a non-UTF-8 locale
export PYTHONDONTWRITEBYTECODE=1

E2E_NAME=plugin-e2e
# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"

rm -rf "$WORK"
mkdir -p "$LOGS"

# ---------------------------------------------------------------------------------------------
# 1. sshd, the packages, the simulator binary.
if [ ! -x /usr/sbin/sshd ] || ! command -v ssh >/dev/null || ! command -v ssh-keygen >/dev/null; then
    [ "$(id -u)" = 0 ] || die "openssh-server is not installed and this is not root: apt-get install openssh-server"
    note "installing openssh-server from Debian's packages"
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        OWN_POLICY_RC=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -q && apt-get install -y -q --no-install-recommends openssh-server openssh-client; } \
        >"$LOGS/apt.log" 2>&1 || { show "$LOGS/apt.log"; die "apt-get install openssh-server failed"; }
    [ -n "$OWN_POLICY_RC" ] && rm -f /usr/sbin/policy-rc.d && OWN_POLICY_RC=
fi

if [ -z "${E2E_SKIP_BUILD:-}" ]; then
    t0=$SECONDS
    note "bash packaging/build.sh"
    bash "$ROOT/packaging/build.sh" >"$LOGS/build.log" 2>&1 || { show "$LOGS/build.log"; die "packaging/build.sh failed"; }
    note "$(tail -n 1 "$LOGS/build.log")"
    if [ ! -x "$SIM" ]; then
        (cd "$ROOT" && nice -n 10 cargo build --release -p ecs-simulator) >"$LOGS/cargo-build.log" 2>&1 ||
            { show "$LOGS/cargo-build.log"; die "cargo build --release -p ecs-simulator failed"; }
    fi
    ok "packaging/build.sh wrote the wheel and the Galaxy tarball ($((SECONDS - t0))s)"
fi
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml" | head -n 1)
WHEEL=$(ls "$ROOT"/dist/alicloud_inventory-"$VERSION"-*.whl 2>/dev/null | head -n 1)
TARBALL=$ROOT/dist/alicloud_inventory-ecs-$VERSION.tar.gz
[ -n "$WHEEL" ] && [ -s "$TARBALL" ] || die "no dist/alicloud_inventory-$VERSION-*.whl or $TARBALL (run packaging/build.sh)"
[ -x "$SIM" ] || die "no simulator binary at $SIM"
note "${WHEEL#"$ROOT"/}, ${TARBALL#"$ROOT"/}"

# the wheel's own binary, for the checks that run it directly and for the Galaxy path's PATH
mkdir -p "$WORK/wheel" "$WORK/bin"
python3 -m zipfile -e "$WHEEL" "$WORK/wheel"
INV=$WORK/bin/alicloud_inventory
cp "$(find "$WORK/wheel" -path '*.data/scripts/alicloud_inventory' | head -n 1)" "$INV"
chmod 755 "$INV"
[ "$("$INV" --version)" = "alicloud_inventory $VERSION" ] || die "the wheel's binary says '$("$INV" --version)', not alicloud_inventory $VERSION"

unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
for v in $(compgen -e | grep -E '^(ANSIBLE_|ALICLOUD_|ALIBABA_CLOUD_)' || true); do unset "$v"; done

# ---------------------------------------------------------------------------------------------
# 2. The fleet and the simulator.
"$SIM" generate --regions 3 --instances 40 --seed 2626 --loopback >"$WORK/fleet.json" 2>"$LOGS/generate.err" ||
    { show "$LOGS/generate.err"; die "ecs-simulator generate failed"; }
AK=E2EPluginAccessKeyId
SECRET=e2e$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
"$SIM" serve --fleet "$WORK/fleet.json" --listen 127.0.0.1:0 --access-key "$AK:$SECRET" \
    >"$LOGS/simulator.out" 2>"$LOGS/simulator.err" &
SIM_PID=$!
PIDS+=("$SIM_PID")
line=$(wait_for_line "$LOGS/simulator.out" '^listening on http://' "$SIM_PID" 30) ||
    { show "$LOGS/simulator.out" "$LOGS/simulator.err"; die "the simulator did not start"; }
ENDPOINT=${line#listening on }
ENDPOINT=${ENDPOINT%%[[:space:]]*}
ENDPOINT=${ENDPOINT%/}
requests() { python3 "$HERE/plugin_checks.py" stats "$ENDPOINT"; }

# ---------------------------------------------------------------------------------------------
# 3. The private sshd (as tests/e2e/run.sh): root from 127.0.0.0/8 only, keys of its own.
start_sshd
note "simulator at $ENDPOINT, sshd on port $SSH_PORT"

# ---------------------------------------------------------------------------------------------
# 4. The inventory files and Ansible's environment.
CACHE=$WORK/cache
mkdir -p "$WORK/inv" "$WORK/ansible/home" "$WORK/ansible/tmp" "$WORK/ansible/remote-tmp"
cat >"$WORK/inv/prod.alicloud.yml" <<EOF
# written by tests/e2e/plugin.sh
plugin: alicloud_inventory.ecs.alicloud_ecs
regions: all
# every host answers ping: running ones with an address (the plugin's default is every one)
instance_states: [running]
destination_variable: [public_ip_address]
cache_connection: $CACHE
cache_timeout: 300
keyed_groups:
  - key: ecs_tags.role | default('none')
    prefix: role
EOF
# the script layouts: the binary with alicloud.ini beside it, passed as a file; the same
# directory passed whole, with ansible.cfg telling Ansible to skip alicloud.ini
mkdir -p "$WORK/script"
cp "$INV" "$WORK/script/alicloud_inventory"
printf '[ecs]\nregions = all\ncache_path = %s\ncache_max_age = 300\n' "$WORK/cache-script" >"$WORK/script/alicloud.ini"
chmod 600 "$WORK/script/alicloud.ini"
printf '[defaults]\n' >"$WORK/ansible/ansible.cfg"
printf '[defaults]\n\n[inventory]\nignore_patterns = ^alicloud\\.ini$\n' >"$WORK/ansible/ansible-dir.cfg"
export ALICLOUD_ACCESS_KEY=$AK
export ALICLOUD_SECRET_KEY=$SECRET
export ALICLOUD_REGION=cn-hangzhou
export ALICLOUD_ECS_ENDPOINT=$ENDPOINT
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
CONN=(-e "ansible_port=$SSH_PORT" -e "ansible_user=$SSH_USER" -e "ansible_ssh_private_key_file=$SSHD_DIR/client_ed25519")
cd "$WORK"

# The binary's own answer: what Ansible must show (this run also fills the cache)
run binary-list 60 "$INV" --config "$WORK/inv/prod.alicloud.yml" --list
[ "$RC" = 0 ] && [ ! -s "$LOGS/binary-list.err" ] || { show "$LOGS/binary-list.err"; die "alicloud_inventory --config prod.alicloud.yml --list failed"; }
run binary-graph 60 "$INV" --config "$WORK/inv/prod.alicloud.yml" --graph
[ "$RC" = 0 ] || { show "$LOGS/binary-graph.err"; die "alicloud_inventory --graph failed"; }
NHOSTS=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["_meta"]["hostvars"]))' "$LOGS/binary-list.out")
[ "$NHOSTS" -gt 10 ] || die "the fleet gave only $NHOSTS hosts"

# A fake binary for the checks the simulator cannot make fail: a failure, a warning, another
# version, and a hostvar marked untrusted as the binary marks strings holding {{, {% or {#.
MARKER=$WORK/marker-plugin
MARKER_SCRIPT=$WORK/marker-script
mkdir -p "$WORK/stub"
python3 - "$WORK/stub" "$MARKER" "$MARKER_SCRIPT" <<'EOF'
import json, sys
out, marker, marker_script = sys.argv[1:]
def inv(evil):
    return {"alicloud": {"hosts": ["evil_host"]},
            "_meta": {"hostvars": {"evil_host": {"ansible_connection": "local", "evil": evil,
                                                "nested": {"list": [evil]}}}}}
payload = "{{ lookup('pipe', 'touch %s') }}"
json.dump(inv({"__ansible_unsafe": payload % marker}), open(out + "/unsafe.json", "w"))
# the same text unmarked, through the script plugin (which trusts it): proves the check can fail
json.dump(inv(payload % marker_script), open(out + "/trusted.json", "w"))
EOF
cat >"$WORK/stub/alicloud_inventory" <<EOF
#!/bin/sh
# a fake alicloud_inventory: STUB_MODE=fail|warn, STUB_VERSION, STUB_JSON
[ "\$1" = --version ] && { echo "alicloud_inventory \${STUB_VERSION:-$VERSION}"; exit 0; }
case "\${STUB_MODE:-}" in
fail) echo "alicloud_inventory: error: region cn-x: Forbidden.RAM: not authorized (grant ecs:DescribeInstances)" >&2; exit 1 ;;
warn) echo "alicloud_inventory: warning: stub warning for the e2e suite" >&2 ;;
esac
cat "\${STUB_JSON:-$WORK/stub/unsafe.json}"
EOF
chmod 755 "$WORK/stub/alicloud_inventory"
cp "$WORK/stub/alicloud_inventory" "$WORK/stub/trusted-script"
sed -i "s#\${STUB_JSON:-$WORK/stub/unsafe.json}#$WORK/stub/trusted.json#" "$WORK/stub/trusted-script"
mkdir -p "$WORK/stubinv"
printf 'plugin: alicloud_inventory.ecs.alicloud_ecs\nexecutable: %s\n' "$WORK/stub/alicloud_inventory" >"$WORK/stubinv/stub.alicloud.yml"
cat >"$WORK/debug.yml" <<'EOF'
- hosts: all
  gather_facts: false
  tasks:
    - debug:
        var: evil
    - debug:
        msg: "{{ evil }}"
    - debug:
        var: nested
EOF

# ---------------------------------------------------------------------------------------------
# 5. The checks, for each ansible-core.
pick_python() { # the first that runs and is >= $1
    local want=$1 c
    shift
    for c in "$@"; do
        [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 || continue
        if "$c" -c "import sys, venv; sys.exit(sys.version_info < ($want))" 2>/dev/null; then
            command -v "$c"
            return 0
        fi
    done
    return 1
}
shopt -s nullglob
PY219=$(pick_python 3,11 "${PLUGIN_PYTHON_219:-}" /root/.pyenv/versions/3.11*/bin/python python3.11 /usr/bin/python3) ||
    die "no Python >= 3.11 for ansible-core 2.19 (set PLUGIN_PYTHON_219)"
PYNEW=$(pick_python 3,12 "${PLUGIN_PYTHON_NEW:-}" /root/.pyenv/versions/3.13*/bin/python /root/.pyenv/versions/3.12*/bin/python python3.13 python3.12) ||
    die "no Python >= 3.12 for the newest ansible-core (set PLUGIN_PYTHON_NEW)"
shopt -u nullglob

suite() { # LABEL PYTHON REQUIREMENT
    local label=$1 py=$2 req=$3 venv=$WORK/venv-$1 t0=$SECONDS before after n
    note "[$label] a fresh virtualenv with $req ($py)"
    "$py" -m venv "$venv" >"$LOGS/$label-venv.log" 2>&1 &&
        "$venv/bin/pip" install -q --disable-pip-version-check "$req" >>"$LOGS/$label-venv.log" 2>&1 ||
        { show "$LOGS/$label-venv.log"; fail "[$label] pip install $req"; return; }
    local ver
    ver=$("$venv/bin/ansible" --version)
    note "[$label] ${ver%%$'\n'*}"
    local AI=$venv/bin/ansible-inventory

    # (a) The Galaxy tarball, installed with -p, and the binary on PATH (no wheel yet).
    run "$label-galaxy-install" 120 "$venv/bin/ansible-galaxy" collection install -p "$WORK/collections-$label" "$TARBALL"
    if [ "$RC" != 0 ]; then
        fail "[$label] ansible-galaxy collection install -p failed"
        show "$LOGS/$label-galaxy-install.err"
    else
        run "$label-galaxy-graph" 120 env PATH="$WORK/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$WORK/collections-$label" \
            "$AI" -i "$WORK/inv" --graph
        if [ "$RC" != 0 ] || [ -n "$(noise "$label-galaxy-graph")" ]; then
            fail "[$label] the Galaxy collection with the binary on PATH: exit $RC; $(noise "$label-galaxy-graph")"
            show "$LOGS/$label-galaxy-graph.err"
        elif ! cmp -s "$LOGS/binary-graph.out" "$LOGS/$label-galaxy-graph.out"; then
            fail "[$label] the Galaxy collection's --graph differs from alicloud_inventory --graph"
            diff "$LOGS/binary-graph.out" "$LOGS/$label-galaxy-graph.out" | head -n 8 | sed 's/^/  | /'
        else
            ok "[$label] Galaxy tarball installed with ansible-galaxy collection install -p, binary on PATH: ansible-inventory --graph equals alicloud_inventory --graph, no warning"
        fi
    fi

    # (b) The wheel, pip-installed into the venv; PATH has no binary.
    run "$label-pip-wheel" 300 "$venv/bin/pip" install -q --disable-pip-version-check --no-deps "$WHEEL"
    if [ "$RC" != 0 ] || [ ! -x "$venv/bin/alicloud_inventory" ]; then
        fail "[$label] pip install the wheel"
        show "$LOGS/$label-pip-wheel.err"
        return
    fi
    ok "[$label] pip install ${WHEEL##*/}: the binary beside the venv's Python, the collection in site-packages"
    if command -v alicloud_inventory >/dev/null; then
        note "[$label] (alicloud_inventory is on PATH too: $(command -v alicloud_inventory))"
    fi

    rm -rf "$CACHE"
    before=$(requests)
    run "$label-graph" 120 "$AI" -i "$WORK/inv" --graph
    after=$(requests)
    if [ "$RC" != 0 ] || [ -n "$(noise "$label-graph")" ]; then
        fail "[$label] ansible-inventory -i DIR --graph: exit $RC; $(noise "$label-graph")"
        show "$LOGS/$label-graph.err"
    elif ! cmp -s "$LOGS/binary-graph.out" "$LOGS/$label-graph.out"; then
        fail "[$label] ansible-inventory -i DIR --graph differs from alicloud_inventory --graph"
        diff "$LOGS/binary-graph.out" "$LOGS/$label-graph.out" | head -n 8 | sed 's/^/  | /'
    elif [ "$after" -le "$before" ]; then
        fail "[$label] a run with no cache made no API call"
    else
        ok "[$label] ansible-inventory -i DIR (prod.alicloud.yml) --graph: byte-identical to alicloud_inventory --graph ($(wc -l <"$LOGS/$label-graph.out") lines), no warning, $((after - before)) API calls on an empty cache"
    fi

    before=$(requests)
    run "$label-graph-warm" 120 "$AI" -i "$WORK/inv/prod.alicloud.yml" --graph
    after=$(requests)
    if [ "$RC" != 0 ] || [ "$after" != "$before" ] || ! cmp -s "$LOGS/binary-graph.out" "$LOGS/$label-graph-warm.out"; then
        fail "[$label] a second run: exit $RC, $((after - before)) API calls (want 0), or a graph unlike the binary's"
        show "$LOGS/$label-graph-warm.err"
    else
        before=$(requests)
        run "$label-graph-flush" 120 "$AI" -i "$WORK/inv/prod.alicloud.yml" --graph --flush-cache
        after=$(requests)
        if [ "$RC" != 0 ] || [ "$after" -le "$before" ] || [ -n "$(noise "$label-graph-flush")" ]; then
            fail "[$label] --flush-cache: exit $RC, $((after - before)) API calls (want more than 0)"
            show "$LOGS/$label-graph-flush.err"
        else
            ok "[$label] a second run makes 0 API calls (the binary's cache); --flush-cache makes $((after - before)) again"
        fi
    fi

    run "$label-export" 120 "$AI" -i "$WORK/inv/prod.alicloud.yml" --list --export
    if [ "$RC" != 0 ] || [ -n "$(noise "$label-export")" ]; then
        fail "[$label] ansible-inventory --list --export: exit $RC; $(noise "$label-export")"
        show "$LOGS/$label-export.err"
    elif ! n=$(python3 "$HERE/plugin_checks.py" export "$LOGS/binary-list.out" "$LOGS/$label-export.out" 2>"$LOGS/check.err"); then
        fail "[$label] ansible-inventory --list --export is not the binary's --list"
        show "$LOGS/check.err"
    else
        ok "[$label] ansible-inventory --list --export (as AWX runs it): the binary's hosts, groups and hostvars ($n), no warning"
    fi

    run "$label-ping" 300 "$venv/bin/ansible" -i "$WORK/inv" all -m ping -f "$FORKS" "${CONN[@]}"
    n=$(grep -c ' | SUCCESS => ' "$LOGS/$label-ping.out" || true)
    if [ "$RC" != 0 ] || [ -n "$(noise "$label-ping")" ] || [ "$n" != "$NHOSTS" ]; then
        fail "[$label] ansible all -m ping through the plugin: exit $RC, $n of $NHOSTS answered; $(noise "$label-ping")"
        grep -E ' \| (UNREACHABLE!|FAILED!)' "$LOGS/$label-ping.out" | head -n 3 | sed 's/^/  | /'
        show "$LOGS/$label-ping.err"
    else
        ok "[$label] ansible all -m ping through the plugin: SUCCESS from all $n hosts over SSH, no warning"
    fi

    run "$label-doc" 60 "$venv/bin/ansible-doc" -t inventory alicloud_inventory.ecs.alicloud_ecs
    if [ "$RC" != 0 ] || [ -n "$(noise "$label-doc")" ] || ! grep -q 'executable' "$LOGS/$label-doc.out" ||
        ! grep -q 'hostvars' "$LOGS/$label-doc.out"; then
        fail "[$label] ansible-doc -t inventory alicloud_inventory.ecs.alicloud_ecs: exit $RC; $(noise "$label-doc")"
        show "$LOGS/$label-doc.err"
    else
        ok "[$label] ansible-doc -t inventory alicloud_inventory.ecs.alicloud_ecs renders ($(wc -l <"$LOGS/$label-doc.out") lines), no warning"
    fi

    # The script path and the README's layouts: the binary as a file, its directory (alicloud.ini
    # skipped through ansible.cfg), and the plugin directory above.
    local layout target cfg
    for layout in "file:$WORK/script/alicloud_inventory:ansible.cfg" "dir:$WORK/script:ansible-dir.cfg"; do
        IFS=: read -r name target cfg <<<"$layout"
        run "$label-script-$name" 120 env ANSIBLE_CONFIG="$WORK/ansible/$cfg" "$AI" -i "$target" --graph
        if [ "$RC" != 0 ] || [ -n "$(noise "$label-script-$name")" ]; then
            fail "[$label] the script path, -i ${target#"$WORK"/}: exit $RC; $(noise "$label-script-$name")"
            show "$LOGS/$label-script-$name.err"
        elif ! grep -q '@alicloud:' "$LOGS/$label-script-$name.out" ||
            [ "$(grep -c '^  |  |--' "$LOGS/$label-script-$name.out")" -lt "$NHOSTS" ]; then
            fail "[$label] the script path, -i ${target#"$WORK"/}: no hosts in the graph"
        else
            ok "[$label] the script path, -i ${target#"$WORK"/} ($cfg): the hosts, no warning"
        fi
    done

    # The fake binary: an untrusted hostvar is printed as text, never rendered.
    rm -f "$MARKER" "$MARKER_SCRIPT"
    run "$label-unsafe" 120 "$venv/bin/ansible-playbook" -i "$WORK/stubinv" "$WORK/debug.yml"
    if [ "$RC" != 0 ] || [ -n "$(noise "$label-unsafe")" ]; then
        fail "[$label] debug of an untrusted hostvar: exit $RC; $(noise "$label-unsafe")"
        show "$LOGS/$label-unsafe.out" "$LOGS/$label-unsafe.err"
    elif [ -e "$MARKER" ]; then
        fail "[$label] a hostvar marked __ansible_unsafe was rendered: the lookup ran and made $MARKER"
    elif [ "$(grep -c -F "lookup('pipe', 'touch $MARKER')" "$LOGS/$label-unsafe.out")" -lt 3 ]; then
        fail "[$label] debug did not print the untrusted hostvar literally (3 times)"
        show "$LOGS/$label-unsafe.out"
    else
        run "$label-trusted" 120 "$venv/bin/ansible-playbook" -i "$WORK/stub/trusted-script" "$WORK/debug.yml"
        if [ -e "$MARKER_SCRIPT" ]; then
            ok "[$label] {\"__ansible_unsafe\": \"{{ lookup('pipe', 'touch ...') }}\"} through the plugin: debug prints it literally, the marker is never made (the same text trusted by the script plugin does make it)"
        else
            fail "[$label] the control run (trusted text through the script plugin) did not render it: the check proves nothing"
            show "$LOGS/$label-trusted.out"
        fi
    fi

    # The fake binary's failure, warning and version.
    run "$label-stub-fail" 60 env STUB_MODE=fail ANSIBLE_INVENTORY_UNPARSED_FAILED=True "$AI" -i "$WORK/stubinv/stub.alicloud.yml" --graph
    if [ "$RC" = 0 ] || ! grep -q 'Forbidden.RAM: not authorized (grant ecs:DescribeInstances)' "$LOGS/$label-stub-fail.err" ||
        grep -q 'Traceback' "$LOGS/$label-stub-fail.err"; then
        fail "[$label] a failing binary: exit $RC, its line not shown"
        show "$LOGS/$label-stub-fail.err"
    else
        ok "[$label] a failing binary: ansible-inventory fails showing its one line ($(grep -o 'region cn-x.*DescribeInstances)' "$LOGS/$label-stub-fail.err" | head -n 1))"
    fi
    run "$label-stub-warn" 60 env STUB_MODE=warn "$AI" -i "$WORK/stubinv/stub.alicloud.yml" --graph
    if [ "$RC" != 0 ] || ! grep -q '^\[WARNING\]: alicloud_inventory: stub warning for the e2e suite' "$LOGS/$label-stub-warn.err" ||
        [ "$(noise "$label-stub-warn" | wc -l)" != 1 ]; then
        fail "[$label] a binary's warning is not one Ansible warning"
        show "$LOGS/$label-stub-warn.err"
    else
        ok "[$label] a binary's warning becomes one Ansible [WARNING], nothing else printed"
    fi
    run "$label-stub-version" 60 env STUB_VERSION=0.0.1 ANSIBLE_INVENTORY_UNPARSED_FAILED=True "$AI" -i "$WORK/stubinv/stub.alicloud.yml" --graph
    if [ "$RC" = 0 ] || ! grep -q "is version 0.0.1, but the collection alicloud_inventory.ecs is $VERSION" "$LOGS/$label-stub-version.err" ||
        ! grep -q "pip install alicloud_inventory==$VERSION" "$LOGS/$label-stub-version.err"; then
        fail "[$label] a binary of another version is not refused with the fix"
        show "$LOGS/$label-stub-version.err"
    else
        ok "[$label] a binary of another version (0.0.1) is refused, naming the fix (pip install alicloud_inventory==$VERSION)"
    fi
    note "[$label] $((SECONDS - t0))s"
}

suite ansible-2.19 "$PY219" "ansible-core>=2.19,<2.20"
suite ansible-newest "$PYNEW" "${PLUGIN_ANSIBLE_NEW:-ansible-core>=2.21}"

# The EE definition: ansible-builder accepts it and writes a build context holding the wheel (the
# image itself needs a container runtime, which CI does not have).
EE=$WORK/ee
mkdir -p "$EE"
cp "$ROOT/packaging/execution-environment.yml" "$WHEEL" "$EE/"
run ee-builder-install 300 "$WORK/venv-ansible-newest/bin/pip" install -q --disable-pip-version-check "ansible-builder>=3,<4"
if [ "$RC" != 0 ]; then
    fail "pip install ansible-builder"
    show "$LOGS/ee-builder-install.err"
else
    run ee-create 120 "$WORK/venv-ansible-newest/bin/ansible-builder" create -f "$EE/execution-environment.yml" -c "$EE/context"
    context_file=
    for f in "$EE/context/Containerfile" "$EE/context/Dockerfile"; do
        [ -f "$f" ] && context_file=$f && break
    done
    if [ "$RC" != 0 ] || [ -z "$context_file" ] || [ ! -s "$EE/context/_build/wheels/${WHEEL##*/}" ] ||
        ! grep -q 'pip install .*alicloud_inventory-\*\.whl' "$context_file"; then
        fail "ansible-builder create -f packaging/execution-environment.yml: exit $RC, or no wheel in the build context"
        show "$LOGS/ee-create.out" "$LOGS/ee-create.err"
    else
        ok "ansible-builder create accepts packaging/execution-environment.yml: a build context with the wheel and its install step (the image build is not run here)"
    fi
fi

for pair in "simulator:$SIM_PID" "sshd:$SSHD_PID"; do
    kill -0 "${pair#*:}" 2>/dev/null || fail "the ${pair%%:*} (pid ${pair#*:}) died during the run"
done
note "$((SECONDS - started))s in all; logs in ${LOGS#"$ROOT"/}"
summary
[ "$failed" = 0 ]

#!/usr/bin/env bash
# Where an Ansible user's wait goes (issue 26): ansible-inventory --graph and --list --export and
# one ansible-playbook debug task, through the script path, the alicloud_ecs plugin and the
# plugin with a hostvars selection, on about 5,000 full-size instances, with the newest
# ansible-core. Not run by CI (about 5 minutes on 2 cores once built).
#
#   bash bench/ansible_paths.sh [--no-build] [--instances N] [--runs N]
#
# Builds the wheel (packaging/build.sh) and the simulator unless --no-build, installs the newest
# ansible-core and the wheel into bench/out/ansible-paths/venv (BENCH_PYTHON, default the first
# Python >= 3.12 found), and prints the Markdown table that docs/BENCHMARKS.md quotes.
set -euo pipefail
cd "$(dirname "$0")/.."
build=1
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --no-build) build=0 ;;
        --instances|--runs|--playbook) args+=("$1" "$2"); shift ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "bench/ansible_paths.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
OUT=bench/out/ansible-paths
TARGET=${CARGO_TARGET_DIR:-target}
mkdir -p "$OUT"
if [ "$build" = 1 ]; then
    bash packaging/build.sh
    nice -n 10 cargo build --release -p ecs-simulator
fi
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
WHEEL=$(ls dist/alicloud_inventory-"$VERSION"-*.whl | head -n 1)
PY=
shopt -s nullglob
for c in ${BENCH_PYTHON:-} /root/.pyenv/versions/3.13*/bin/python /root/.pyenv/versions/3.12*/bin/python python3.13 python3.12; do
    command -v "$c" >/dev/null 2>&1 || continue
    if "$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then PY=$c; break; fi
done
shopt -u nullglob
[ -n "$PY" ] || { echo "bench/ansible_paths.sh: no Python >= 3.12 (set BENCH_PYTHON)" >&2; exit 2; }
VENV=$OUT/venv
rm -rf "$VENV"
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check "ansible-core>=2.21" "$WHEEL"
exec "$VENV/bin/python" bench/ansible_paths.py --venv "$VENV" --sim "$TARGET/release/ecs-simulator" \
    --bin "$VENV/bin/alicloud_inventory" --out "$OUT" "${args[@]}"

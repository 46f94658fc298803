#!/usr/bin/env bash
# Builds what Ansible users install, into dist/:
#   alicloud_inventory-<version>-py3-none-manylinux_2_28_x86_64.whl
#       the release binary as a script (installed beside the Python that runs Ansible) and the
#       collection alicloud_inventory.ecs under ansible_collections/ (found on sys.path)
#   alicloud_inventory-ecs-<version>.tar.gz
#       the same collection, made by `ansible-galaxy collection build`
#
#   bash packaging/build.sh
#
# Installs its own tools (maturin, ziglang, ansible-core) into a virtualenv under
# target/packaging/ (git-ignored, reused while the tool list and Python are the same). The binary
# is linked by zig against glibc 2.28, so the wheel runs on EL8 and newer, Debian 10+, Ubuntu
# 18.10+; the build fails when the binary needs a newer glibc symbol. The version is the Cargo
# workspace's ([workspace.package] version in Cargo.toml): the wheel takes it from there, and
# the collection's galaxy.yml and plugin constant are written from it here.
#
# Environment (optional):
#   BUILD_PYTHON       the Python (>= 3.11) for the tools' virtualenv (default: the first of
#                      python3.13, python3.12, python3.11, python3 that is >= 3.11)
#   BUILD_COMPAT       the wheel's platform (default manylinux_2_28); e.g. manylinux2014
#   BUILD_SKIP_WHEEL=1 only the Galaxy tarball
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PKG=$ROOT/packaging
WORK=${CARGO_TARGET_DIR:-$ROOT/target}/packaging
DIST=$ROOT/dist
COMPAT=${BUILD_COMPAT:-manylinux_2_28}
TOOLS=("maturin>=1.9,<2" "ziglang>=0.13" "ansible-core>=2.19")
export PYTHONDONTWRITEBYTECODE=1 LC_ALL=C.UTF-8 LANG=C.UTF-8

say() { echo "build: $*" >&2; }
die() {
    echo "build: error: $*" >&2
    exit 1
}
started=$SECONDS
mkdir -p "$WORK" "$DIST"

# --- the tools -------------------------------------------------------------------------------
PY=
for c in ${BUILD_PYTHON:-python3.13 python3.12 python3.11 python3}; do
    command -v "$c" >/dev/null || continue
    if "$c" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        PY=$(command -v "$c")
        break
    fi
done
[ -n "$PY" ] || die "no Python >= 3.11 found (set BUILD_PYTHON)"
VENV=$WORK/venv
STAMP="${TOOLS[*]} / $PY $("$PY" -c 'import sys; print(sys.version.split()[0])')"
if [ "$(cat "$VENV/.stamp" 2>/dev/null)" != "$STAMP" ]; then
    say "installing ${TOOLS[*]} into ${VENV#"$ROOT"/} with $PY"
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "${TOOLS[@]}" >"$WORK/pip.log" 2>&1 ||
        { tail -n 20 "$WORK/pip.log" >&2; die "pip install ${TOOLS[*]} failed"; }
    printf '%s\n' "$STAMP" >"$VENV/.stamp"
fi
VPY=$VENV/bin/python

# --- the version, from Cargo.toml --------------------------------------------------------------
VERSION=$("$VPY" -c '
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    print(tomllib.load(f)["workspace"]["package"]["version"])
' "$ROOT/Cargo.toml")
[[ $VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "Cargo.toml's workspace version '$VERSION' is not X.Y.Z"
say "version $VERSION (Cargo.toml)"

# --- the collection --------------------------------------------------------------------------
# Staged with the version written in, then built by ansible-galaxy; the wheel carries the
# tarball's content (MANIFEST.json and FILES.json included), so both hold the same collection.
STAGE=$WORK/stage/ansible_collections/alicloud_inventory/ecs
rm -rf "$WORK/stage"
mkdir -p "$STAGE"
cp -R "$PKG/collection/." "$STAGE/"
find "$STAGE" -name '__pycache__' -prune -exec rm -rf {} +
"$VPY" - "$STAGE" "$VERSION" <<'EOF'
import pathlib, re, sys
stage, version = pathlib.Path(sys.argv[1]), sys.argv[2]
for rel, pattern, repl in (
    ("galaxy.yml", r"(?m)^version: .*$", f"version: {version}"),
    ("plugins/inventory/alicloud_ecs.py", r'(?m)^COLLECTION_VERSION = ".*"$', f'COLLECTION_VERSION = "{version}"'),
):
    p = stage / rel
    text, n = re.subn(pattern, repl, p.read_text())
    if n != 1:
        sys.exit(f"{rel}: no version line to set")
    p.write_text(text)
EOF
# the plugin's DOCUMENTATION must render (ansible-doc parses it as YAML)
ANSIBLE_COLLECTIONS_PATH=$WORK/stage ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=False ANSIBLE_NOCOLOR=1 \
    "$VENV/bin/ansible-doc" -t inventory alicloud_inventory.ecs.alicloud_ecs >"$WORK/doc.txt" 2>"$WORK/doc.err" &&
    ! grep -q -E '^\[(ERROR|WARNING)\]' "$WORK/doc.err" ||
    { cat "$WORK/doc.err" >&2; die "ansible-doc cannot render the plugin's DOCUMENTATION"; }
TARBALL=$DIST/alicloud_inventory-ecs-$VERSION.tar.gz
rm -f "$TARBALL"
(cd "$STAGE" && "$VENV/bin/ansible-galaxy" collection build --force --output-path "$DIST") >"$WORK/galaxy.log" 2>&1 ||
    { cat "$WORK/galaxy.log" >&2; die "ansible-galaxy collection build failed"; }
[ -s "$TARBALL" ] || die "ansible-galaxy made no $TARBALL"
say "wrote ${TARBALL#"$ROOT"/}"

[ -z "${BUILD_SKIP_WHEEL:-}" ] || exit 0

# --- the wheel ---------------------------------------------------------------------------------
DATA=$PKG/wheel-data
rm -rf "$DATA"
mkdir -p "$DATA/purelib/ansible_collections/alicloud_inventory/ecs"
tar -xzf "$TARBALL" -C "$DATA/purelib/ansible_collections/alicloud_inventory/ecs"
rm -f "$DIST"/alicloud_inventory-"$VERSION"-*.whl
say "maturin build --release --zig --compatibility $COMPAT (a release build: minutes)"
(
    cd "$PKG"
    PATH=$VENV/bin:$PATH nice -n 10 "$VENV/bin/maturin" build --release --zig --compatibility "$COMPAT" \
        --out "$DIST"
) >"$WORK/maturin.log" 2>&1 || { tail -n 30 "$WORK/maturin.log" >&2; die "maturin build failed (log: ${WORK#"$ROOT"/}/maturin.log)"; }
rm -rf "$DATA"
WHEEL=$(ls "$DIST"/alicloud_inventory-"$VERSION"-*.whl 2>/dev/null | head -n 1)
[ -n "$WHEEL" ] || die "maturin made no wheel in dist/"

# The glibc the binary needs: its newest versioned symbol must be within the wheel's tag.
CHECK=$WORK/check
rm -rf "$CHECK"
mkdir -p "$CHECK"
"$VPY" -m zipfile -e "$WHEEL" "$CHECK"
BIN=$(find "$CHECK" -path '*.data/scripts/alicloud_inventory' -type f | head -n 1)
[ -n "$BIN" ] || die "the wheel holds no scripts/alicloud_inventory"
[ -n "$(find "$CHECK" -path '*.data/purelib/ansible_collections/alicloud_inventory/ecs/plugins/inventory/alicloud_ecs.py')" ] ||
    die "the wheel holds no ansible_collections/alicloud_inventory/ecs"
GLIBC=$(objdump -T "$BIN" | grep -o 'GLIBC_[0-9.]*' | sort -V | tail -n 1)
WANT=${COMPAT#manylinux_}
case $COMPAT in manylinux2014) WANT=2_17 ;; esac
if [ "$(printf '%s\n' "${GLIBC#GLIBC_}" "${WANT/_/.}" | sort -V | tail -n 1)" != "${WANT/_/.}" ]; then
    die "the binary needs $GLIBC, newer than the wheel's $COMPAT allows"
fi
chmod +x "$BIN"
[ "$("$BIN" --version)" = "alicloud_inventory $VERSION" ] || die "the wheel's binary says '$("$BIN" --version)', not alicloud_inventory $VERSION"
echo "$GLIBC" >"$WORK/glibc.txt"
rm -rf "$CHECK"
say "wrote ${WHEEL#"$ROOT"/} (binary needs $GLIBC at most; $((SECONDS - started)) s)"

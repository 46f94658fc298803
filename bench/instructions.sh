#!/usr/bin/env bash
# Instructions (user space, valgrind's cachegrind) of one W1 cold run, without and with the
# bench's constructed entries: a figure that, unlike CPU time, barely moves between runs on a
# shared machine, for comparing two builds of a change.
#
#   bash bench/instructions.sh [BIN_DIR...]    default: target/release
#
# Needs valgrind, and the fleet and configurations a full `bash bench/run.sh` leaves in
# bench/out/full/.
set -euo pipefail
cd "$(dirname "$0")/.."
full=bench/out/full
fleet=$full/fleet-w1-10000.json
for f in "$fleet" "$full/w1.ini" "$full/w1-constructed.ini"; do
    [[ -e $f ]] || { echo "bench/instructions.sh: $f is missing: run bash bench/run.sh first" >&2; exit 2; }
done
command -v valgrind > /dev/null || { echo "bench/instructions.sh: valgrind is not installed" >&2; exit 2; }
dirs=("$@")
[[ ${#dirs[@]} -gt 0 ]] || dirs=(target/release)

simulator=
for dir in "${dirs[@]}" target/release target/debug; do
    [[ -x $dir/ecs-simulator ]] && { simulator=$dir/ecs-simulator; break; }
done
[[ -n $simulator ]] || { echo "bench/instructions.sh: no ecs-simulator binary: cargo build --release --bins" >&2; exit 2; }
out=$(mktemp -d)
sim=
trap '[[ -n $sim ]] && kill $sim 2> /dev/null; rm -rf "$out"' EXIT
"$simulator" serve --fleet "$fleet" --listen 127.0.0.1:0 \
    --access-key BENCHAK:BENCHSECRET --latency-ms 1 > "$out/sim.out" 2> "$out/sim.err" &
sim=$!
until grep -q listening "$out/sim.out" 2> /dev/null; do
    kill -0 $sim 2> /dev/null || { echo "bench/instructions.sh: the simulator did not start: $(cat "$out/sim.err")" >&2; exit 1; }
    sleep 0.1
done
url=$(awk '/listening/{print $NF}' "$out/sim.out")
url=${url%/}
export ALICLOUD_ECS_ENDPOINT=$url ALICLOUD_STS_ENDPOINT=$url HOME=$out
export ALICLOUD_ACCESS_KEY=BENCHAK ALICLOUD_SECRET_KEY=BENCHSECRET

count() {
    valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
        "$1/alicloud_inventory" --config "$2" --refresh-cache 2>&1 > /dev/null |
        awk '/I *refs/ {gsub(",", "", $NF); print $NF}'
}
for dir in "${dirs[@]}"; do
    plain=$(count "$dir" "$full/w1.ini")
    shaped=$(count "$dir" "$full/w1-constructed.ini")
    awk -v d="$dir" -v p="$plain" -v c="$shaped" 'BEGIN {
        printf "%s: W1 cold %.0fM instructions, with the constructed entries %.0fM (+%.0fM, +%.1f %%)\n",
            d, p / 1e6, c / 1e6, (c - p) / 1e6, 100 * (c - p) / p }'
done

#!/usr/bin/env bash
# Benchmark of alicloud_inventory against the ECS simulator.
#
#   bash bench/run.sh            full run: builds the release binaries, measures the issue's
#                                workloads (W1 cold/warm, W2, --host, throttled) and rewrites
#                                docs/BENCHMARKS.md. Needs python3; under 10 minutes on 2 cores.
#   bash bench/run.sh --smoke    small fleets, 2 runs, report in bench/out/smoke/smoke.md;
#                                uses the debug binaries (cargo build --bins) unless --release.
#                                Exits non-zero when a basic check fails (a run fails, invalid
#                                JSON, requests != fewest possible), never on timing.
#   --no-build                   use the binaries already in target/ as they are.
#   --write-baseline             record this run's W1 and W2 cold CPU in bench/baseline.json,
#                                the baseline of the CPU targets.
#
# Scratch output (fleets, cache, stderr of every run, simulator logs) goes to bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=0 build=1 profile=release profile_forced=0 baseline=()
for arg in "$@"; do
    case "$arg" in
        --smoke) smoke=1 ;;
        --no-build) build=0 ;;
        --release) profile=release profile_forced=1 ;;
        --write-baseline) baseline=(--write-baseline bench/baseline.json) ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "bench/run.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done
if [[ $smoke == 1 && $profile_forced == 0 ]]; then
    profile=debug
fi

target_dir="${CARGO_TARGET_DIR:-target}"
bin_dir="$target_dir/$profile"
if [[ $build == 1 ]]; then
    start=$(date +%s)
    if [[ $profile == release ]]; then
        cargo build --release --bins
    else
        cargo build --bins
    fi
    echo "bench: built $profile binaries in $(( $(date +%s) - start )) s" >&2
fi
for b in alicloud_inventory ecs-simulator; do
    if [[ ! -x "$bin_dir/$b" ]]; then
        echo "bench/run.sh: $bin_dir/$b is missing (run without --no-build)" >&2
        exit 2
    fi
done

echo "bench: uptime before: $(uptime)" >&2
if [[ $smoke == 1 ]]; then
    python3 bench/measure.py --smoke --bin-dir "$bin_dir" --out bench/out/smoke \
        --doc bench/out/smoke/smoke.md
else
    python3 bench/measure.py --bin-dir "$bin_dir" --out bench/out/full --doc docs/BENCHMARKS.md \
        "${baseline[@]}"
fi
status=$?
echo "bench: uptime after: $(uptime)" >&2
exit $status

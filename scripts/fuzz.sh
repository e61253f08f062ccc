#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang++ (AddressSanitizer and
# UBSan) and runs each for SECONDS (default 20) on its seed corpus. Exits
# non-zero on any finding (crash, sanitizer report, undocumented exception,
# broken decoder contract, timeout, out-of-memory); the reproducer is written
# to BUILD/findings/<target>/ and the log to BUILD/logs/<target>.log.
#
#   scripts/fuzz.sh [SECONDS]
#   RECLOOP_FUZZ_BUILD_DIR  build directory (default: build-fuzz in the source tree)
#   RECLOOP_FUZZ_CXX        compiler (default: clang++)
#   RECLOOP_FUZZ_TARGETS    targets to run (default: "wire codec dsjson scenario rank_request")
#
# Reproduce a finding:  BUILD/fuzz_<target> BUILD/findings/<target>/crash-...
# Seeds are fuzz/corpus/<target>/ (never written to); inputs libFuzzer finds
# while running go to BUILD/corpus/<target>/.
set -euo pipefail

seconds=${1:-20}
if ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "fuzz.sh: SECONDS must be a positive integer, got '$seconds'" >&2
  exit 2
fi
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${RECLOOP_FUZZ_BUILD_DIR:-$root/build-fuzz}
cxx=${RECLOOP_FUZZ_CXX:-clang++}
targets=${RECLOOP_FUZZ_TARGETS:-wire codec dsjson scenario rank_request}
max_len=4096     # bytes per input: the seeds are at most a few KiB
timeout=10       # seconds per input before it counts as a hang

if ! command -v "$cxx" >/dev/null; then
  echo "fuzz.sh: $cxx not found (install clang and libclang-rt-14-dev)" >&2
  exit 2
fi
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # Sources are named by absolute paths, so objects built in one build
  # directory serve every other (e.g. build-fuzz and the CTest run's build/fuzz).
  export CCACHE_NOHASHDIR=true
fi

cmake -S "$root/fuzz" -B "$build" -DCMAKE_CXX_COMPILER="$cxx" "${launcher[@]}" >/dev/null
build_targets=()
for t in $targets; do build_targets+=(--target "fuzz_$t"); done
cmake --build "$build" -j2 "${build_targets[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
for t in $targets; do
  mkdir -p "$build/corpus/$t" "$build/findings/$t" "$build/logs"
  dict=()
  if [ -f "$root/fuzz/$t.dict" ]; then dict=(-dict="$root/fuzz/$t.dict"); fi
  log="$build/logs/$t.log"
  if "$build/fuzz_$t" -max_total_time="$seconds" -max_len="$max_len" -timeout="$timeout" \
       -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
       -artifact_prefix="$build/findings/$t/" \
       "$build/corpus/$t" "$root/fuzz/corpus/$t" >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    echo "fuzz_$t: ok, $runs inputs in ${seconds} s"
  else
    echo "fuzz_$t: FINDING (log $log)" >&2
    tail -n 40 "$log" >&2
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: findings in: ${failed[*]} (reproducers in $build/findings/)" >&2
  exit 1
fi

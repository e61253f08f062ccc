#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Where the collector's time goes: runs `recloop collect` as its own process
# under `strace -c -f` (syscall counts and time), while bench/e2e_bench pushes
# decision + reward pairs through it for a few seconds; then prints the
# collector's counters, its CPU time (user/system, from /proc/PID/stat) per
# event and the syscall table. With `perf` usable (perf_event_paranoid <= 2),
# a second run samples the collector's CPU profile (cpu-clock) instead.
#
#   scripts/e2e_profile.sh [BUILD_DIR] [SECONDS]
#
# BUILD_DIR must hold cli/recloop and bench/e2e_bench (default: build).
set -eu
build=${1:-build}
seconds=${2:-5}
recloop=$build/cli/recloop
bench=$build/bench/e2e_bench
[ -x "$recloop" ] && [ -x "$bench" ] || { echo "e2e_profile.sh: need $recloop and $bench" >&2; exit 2; }
dir=$(mktemp -d /tmp/recloop-profile-XXXXXX)
trap 'rm -rf "$dir"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
endpoint=tcp://127.0.0.1:$port
ticks=$(getconf CLK_TCK)

# Prints "user_s system_s" of a pid from /proc/PID/stat (fields 14 and 15).
cpu_of() {
  awk -v t="$ticks" '{ sub(/^.*\) /, ""); printf "%.2f %.2f\n", $12 / t, $13 / t }' "/proc/$1/stat"
}

# Starts the collector under `$@` (a wrapper command, or nothing), waits until
# it answers, runs the throughput section against it and stops it.
run() {
  "$@" "$recloop" collect --log "$dir/events.db" --bind "$endpoint" >"$dir/collect.out" 2>&1 &
  wrapper=$!
  sleep 1
  pid=$(pgrep -n -f "collect --log $dir/events.db" || true)
  [ -n "$pid" ] || { echo "e2e_profile.sh: the collector did not start" >&2; cat "$dir/collect.out" >&2; exit 1; }
  "$bench" --only throughput --seconds "$seconds" --collector "$endpoint" --log "$dir/events.db"
  echo "collector CPU (user s, system s): $(cpu_of "$pid")"
  kill -TERM "$pid"
  wait "$wrapper" || true
  grep -h "stopped" "$dir/collect.out" || true
}

echo "## strace -c -f of recloop collect ($seconds s per payload)"
run strace -c -f -o "$dir/strace.txt"
head -n 30 "$dir/strace.txt"
rm -f "$dir"/events.db*

if command -v perf >/dev/null 2>&1 && perf record -e cpu-clock -o "$dir/probe.data" -- true >/dev/null 2>&1; then
  echo
  echo "## perf (cpu-clock) of recloop collect"
  run perf record -e cpu-clock -F 2000 -o "$dir/perf.data" --
  echo "### by library"
  perf report -i "$dir/perf.data" --stdio --sort dso 2>/dev/null | grep -E '^ +[0-9]' | head -n 12
  echo "### by function"
  perf report -i "$dir/perf.data" --stdio --sort dso,symbol 2>/dev/null | grep -E '^ +[0-9]' |
    head -n 30 | cut -c 1-110
fi

#!/usr/bin/env bash
# Installs recloop's build and test dependencies from Debian 12 packages.
set -euo pipefail
packages=(cmake make g++ libboost-program-options-dev libboost-dev libeigen3-dev
          libzmq3-dev cppzmq-dev libsqlite3-dev sqlite3 catch2 libbenchmark-dev
          nlohmann-json3-dev)
packages+=(chromium)  # headless: renders the HTML bias report in an [integration] test
packages+=(clang libclang-rt-14-dev)  # libFuzzer and sanitizer runtimes for scripts/fuzz.sh
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

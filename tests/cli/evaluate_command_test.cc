// SPDX-License-Identifier: Apache-2.0
// The `recloop evaluate` verb, run as a user runs it, on a log `simulate` wrote.
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "tests/support/process.h"

using namespace recloop;
using Catch::Matchers::Contains;

namespace {
const std::string kBinary = RECLOOP_BINARY;

struct SimulatedLog {
  std::string path = testing::temp_path("evaluate.db");
  SimulatedLog() {
    const auto result = testing::run_command(kBinary + " simulate -q --json --set run.steps=2000 --log " + path);
    REQUIRE(result.exit_code == 0);
  }
  ~SimulatedLog() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  }
};
}  // namespace

TEST_CASE("evaluate reports every estimate beside the exact value of a simulated log",
          "[cli][integration]") {
  SimulatedLog log;
  const auto result = testing::run_command(kBinary + " evaluate --log " + log.path +
                                           " --target lin_ucb --logging-policy uniform --json");
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  REQUIRE_THAT(result.out, Contains("\"exact_value\":") && Contains("\"ips\":") &&
                               Contains("\"snips\":") && Contains("\"dm\":") && Contains("\"dr\":"));
  REQUIRE_THAT(result.out, Contains("\"trained_on\":1000") && Contains("\"scored_on\":1000"));
}

TEST_CASE("evaluate without a target exits 2 saying what is missing", "[cli][integration]") {
  SimulatedLog log;
  const auto result = testing::run_command(kBinary + " evaluate --log " + log.path);
  REQUIRE(result.exit_code == 2);
  REQUIRE_THAT(result.err, Contains("--target"));
}

TEST_CASE("evaluate with a missing log exits 2 naming the file", "[cli][integration]") {
  const auto result = testing::run_command(kBinary + " evaluate --log /nonexistent/l.db --target uniform");
  REQUIRE(result.exit_code == 2);
  REQUIRE_THAT(result.err, Contains("/nonexistent/l.db"));
}

TEST_CASE("evaluate rejects an unknown estimator by name", "[cli][integration]") {
  SimulatedLog log;
  const auto result = testing::run_command(kBinary + " evaluate --log " + log.path +
                                           " --target uniform --estimators ips,magic");
  REQUIRE(result.exit_code == 2);
  REQUIRE_THAT(result.err, Contains("magic"));
}

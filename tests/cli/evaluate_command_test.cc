// SPDX-License-Identifier: Apache-2.0
// The `recloop evaluate` verb, run as a user runs it, on a log `simulate` wrote.
#include <cmath>
#include <cstdlib>
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
  // A log of `steps` requests per policy of the default scenario, drawn with run seed `seed`.
  SimulatedLog(int steps, int seed, const std::string& stem) : path(testing::temp_path(stem)) {
    const auto result = testing::run_command(kBinary + " simulate -q --json --set run.steps=" +
                                             std::to_string(steps) + " --set run.seed=" +
                                             std::to_string(seed) + " --log " + path);
    REQUIRE(result.exit_code == 0);
  }
  ~SimulatedLog() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  }
};

// The object `"key":{...}` in `json` (its first occurrence), braces balanced;
// empty when absent.
std::string json_object(const std::string& json, const std::string& key) {
  const std::size_t at = json.find("\"" + key + "\":{");
  if (at == std::string::npos) return {};
  const std::size_t open = at + key.size() + 3;
  int depth = 0;
  for (std::size_t i = open; i < json.size(); ++i) {
    if (json[i] == '{') ++depth;
    if (json[i] == '}' && --depth == 0) return json.substr(open, i + 1 - open);
  }
  return {};
}

// The number after the first `"key":` in `json`, or NaN when absent or null.
double json_number(const std::string& json, const std::string& key) {
  const std::size_t at = json.find("\"" + key + "\":");
  if (at == std::string::npos) return std::nan("");
  const char* start = json.c_str() + at + key.size() + 3;
  char* end = nullptr;
  const double value = std::strtod(start, &end);
  return end == start ? std::nan("") : value;
}
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

TEST_CASE("evaluate shows bootstrap intervals and safe lower bounds, documented in --help",
          "[cli][integration]") {
  const auto help = testing::run_command(kBinary + " evaluate --help");
  REQUIRE(help.exit_code == 0);
  REQUIRE_THAT(help.out, Contains("--bootstrap ") && Contains("--bootstrap-seed") &&
                             Contains("safe lower"));
  SimulatedLog log;
  const std::string base = kBinary + " evaluate --log " + log.path +
                           " --target lin_ucb --logging-policy uniform";
  const std::string command = base + " --bootstrap 500";
  const auto table = testing::run_command(command);
  INFO(table.err);
  REQUIRE(table.exit_code == 0);
  REQUIRE_THAT(table.out, Contains("95% CI (bootstrap)") && Contains("95% safe lower") &&
                              Contains("500 replicates, seed 0"));
  const auto json = testing::run_command(command + " --json");
  REQUIRE(json.exit_code == 0);
  for (const std::string name : {"ips", "snips", "dm", "dr", "dr_cross_fit"}) {
    const std::string estimate = json_object(json.out, name);
    const std::string bootstrap = json_object(estimate, "bootstrap");
    INFO(name << ": " << estimate);
    const double value = json_number(estimate, "value");
    // The percentile interval brackets the point estimate of these
    // near-normal estimates (n = 1000 rows, half-width ~2 SE).
    REQUIRE(json_number(bootstrap, "lower") < value);
    REQUIRE(value < json_number(bootstrap, "upper"));
    REQUIRE(json_number(bootstrap, "std_error") > 0.0);
    if (name != "snips") {
      // A 95% lower bound lies below the estimate.
      REQUIRE(json_number(estimate, "safe_lower_bound") < value);
    } else {
      REQUIRE_THAT(estimate, Contains("\"safe_lower_bound\":null"));
    }
  }
  // Off, the estimates carry no bootstrap.
  const auto off = testing::run_command(base + " --json --bootstrap 0");
  REQUIRE(off.exit_code == 0);
  REQUIRE_THAT(off.out, !Contains("\"bootstrap\":{"));
  const auto bad = testing::run_command(base + " --bootstrap 5");
  REQUIRE(bad.exit_code == 2);
  REQUIRE_THAT(bad.err, Contains("--bootstrap 5"));
}

TEST_CASE("evaluate scores a model saved by train on a fresh log of the same world",
          "[cli][integration][statistical]") {
  // Train LinUCB on the uniform decisions of one log (run seed 7), then score
  // the saved model on another (run seed 8, same catalogue): the target is
  // fixed before the scored log is drawn, so IPS and DR are unbiased for the
  // mean over its contexts of Σ_a π(a|x) E[r|x,a], the exact value the
  // simulator's truth gives. Each estimate is within 4 of its standard errors
  // of it but with probability ~6e-5 (normal approximation, n = 3000).
  SimulatedLog train_log(3000, 7, "evaluate-train.db");
  SimulatedLog score_log(3000, 8, "evaluate-score.db");
  const std::string model = testing::temp_path("evaluate-lin_ucb.rlm");
  const auto trained = testing::run_command(kBinary + " train --log " + train_log.path +
                                            " --policy lin_ucb --logging-policy uniform --out " +
                                            model);
  INFO(trained.err);
  REQUIRE(trained.exit_code == 0);
  const auto result = testing::run_command(kBinary + " evaluate --log " + score_log.path +
                                           " --target model:" + model +
                                           " --logging-policy uniform --bootstrap 200 --json");
  std::filesystem::remove(model);
  INFO(result.err << result.out);
  REQUIRE(result.exit_code == 0);
  REQUIRE_THAT(result.out, Contains("\"target\":\"model:") && Contains("\"trained_on\":0") &&
                               Contains("\"scored_on\":3000"));
  const double exact = json_number(result.out, "exact_value");
  // The uniform logger's own value is lower: LinUCB learnt something.
  REQUIRE(exact > json_number(json_object(result.out, "naive"), "value"));
  for (const std::string name : {"ips", "dr"}) {
    const std::string estimate = json_object(result.out, name);
    const double value = json_number(estimate, "value");
    const double se = json_number(estimate, "std_error");
    INFO(name << ": " << value << " (SE " << se << ") vs exact " << exact);
    REQUIRE(std::abs(value - exact) <= 4.0 * se);
  }
}

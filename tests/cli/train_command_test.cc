// SPDX-License-Identifier: Apache-2.0
// The `recloop train` and `recloop policies` verbs, run as a user runs them.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "core/error.h"
#include "policies/model_file.h"
#include "policies/probability_floor.h"
#include "policies/registry.h"
#include "tests/support/process.h"

using namespace recloop;
using Catch::Matchers::Contains;

namespace {
const std::string kBinary = RECLOOP_BINARY;

// One simulated log for the whole file: 2000 requests for each of the default
// scenario's policies (uniform, epsilon_greedy, lin_ucb).
const std::string& simulated_log() {
  struct Log {
    std::string path = testing::temp_path("train.db");
    Log() {
      const auto result = testing::run_command(kBinary + " simulate -q --set run.steps=2000 --log " + path);
      if (result.exit_code != 0) throw Error("simulate failed: " + result.err);
    }
    ~Log() {
      for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    }
  };
  static const Log log;
  return log.path;
}

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& stem) : path(testing::temp_path(stem)) {}
  ~TempFile() { std::filesystem::remove(path); }
};

testing::CommandResult train(const std::string& options) {
  return testing::run_command(kBinary + " train --log " + simulated_log() + " " + options);
}
}  // namespace

TEST_CASE("train --help describes the verb and exits 0", "[cli][integration]") {
  const auto result = testing::run_command(kBinary + " train --help");
  REQUIRE(result.exit_code == 0);
  REQUIRE_THAT(result.out, Contains("--log") && Contains("--policy") && Contains("--out") &&
                               Contains("--targets") && Contains("--max-weight") &&
                               Contains("--logging-policy"));
}

TEST_CASE("train learns from a simulated log and writes a model that loads",
          "[cli][integration]") {
  TempFile model("lin_ucb.rlm");
  const auto result = train("--policy lin_ucb --logging-policy uniform --out " + model.path);
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  // Every uniform decision was rewarded, and dr uses each one.
  REQUIRE_THAT(result.out, Contains("trained lin_ucb on 2000 of 2000 interactions (dr targets") &&
                               Contains("model version 2000") && Contains(model.path));
  REQUIRE(std::count(result.out.begin(), result.out.end(), '\n') == 1);
  const auto policy = load_model(model.path);
  REQUIRE(policy->name() == "lin_ucb");
  REQUIRE(policy->model_version() == 2000);

  // The same file cut short is refused by the reader.
  std::string bytes;
  {
    std::ifstream in(model.path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  TempFile truncated("truncated.rlm");
  std::ofstream(truncated.path, std::ios::binary).write(bytes.data(),
                                                       static_cast<std::streamsize>(bytes.size() / 2));
  REQUIRE_THROWS_WITH(load_model(truncated.path),
                      Contains(truncated.path) && Contains("model file truncated"));
}

TEST_CASE("train passes policy settings and target options through", "[cli][integration]") {
  TempFile model("floored.rlm");
  const auto result = train("--policy epsilon_greedy --targets ips --max-weight 5 "
                            "--set epsilon_greedy.probability_floor=0.02 --out " + model.path);
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  // All three policies' decisions (6000); the adaptive policies' small probabilities get clipped.
  REQUIRE_THAT(result.out, Contains("on 6000 of 6000 interactions (ips targets"));
  const auto policy = load_model(model.path);
  const auto* floor = dynamic_cast<const ProbabilityFloor*>(policy.get());
  REQUIRE(floor != nullptr);
  REQUIRE(floor->floor() == 0.02);
  REQUIRE(policy->name() == "epsilon_greedy");
}

TEST_CASE("train's bad options exit 2 naming the option and value", "[cli][integration]") {
  TempFile model("bad.rlm");
  SECTION("an unknown policy") {
    const auto result = train("--policy lin_ucbb --out " + model.path);
    REQUIRE(result.exit_code == 2);
    REQUIRE_THAT(result.err, Contains("unknown policy 'lin_ucbb'"));
  }
  SECTION("an unknown kind of targets") {
    const auto result = train("--policy lin_ucb --targets snips --out " + model.path);
    REQUIRE(result.exit_code == 2);
    REQUIRE_THAT(result.err, Contains("--targets") && Contains("snips"));
  }
  SECTION("a weight clip below 1") {
    const auto result = train("--policy lin_ucb --max-weight 0.5 --out " + model.path);
    REQUIRE(result.exit_code == 2);
    REQUIRE_THAT(result.err, Contains("--max-weight") && Contains("0.5"));
  }
  SECTION("regression targets for a policy that is not a regression") {
    const auto result = train("--policy uniform --targets dr --out " + model.path);
    REQUIRE(result.exit_code == 2);
    REQUIRE_THAT(result.err, Contains("--targets dr") && Contains("'uniform'"));
  }
  SECTION("a bad policy setting") {
    const auto result = train("--policy lin_ucb --set lin_ucb.alpha=-1 --out " + model.path);
    REQUIRE(result.exit_code == 2);
    REQUIRE_THAT(result.err, Contains("alpha") && Contains("-1"));
  }
  SECTION("no --out") {
    const auto result = train("--policy lin_ucb");
    REQUIRE(result.exit_code == 2);
    REQUIRE_THAT(result.err, Contains("--out"));
  }
  REQUIRE_FALSE(std::filesystem::exists(model.path));
}

TEST_CASE("train with a missing log exits 2 naming the file", "[cli][integration]") {
  const auto result =
      testing::run_command(kBinary + " train --log /nonexistent/l.db --policy lin_ucb --out m.rlm");
  REQUIRE(result.exit_code == 2);
  REQUIRE_THAT(result.err, Contains("/nonexistent/l.db"));
}

TEST_CASE("recloop policies lists every policy with its settings and paper", "[cli][integration]") {
  const auto text = testing::run_command(kBinary + " policies");
  REQUIRE(text.exit_code == 0);
  const auto json = testing::run_command(kBinary + " policies --json");
  REQUIRE(json.exit_code == 0);
  for (const auto& name : policy_names()) {
    INFO(name);
    REQUIRE_THAT("\n" + text.out, Contains("\n" + name + "\n  follows: "));
    REQUIRE_THAT(json.out, Contains("{\"name\":\"" + name + "\",\"reference\":\""));
    REQUIRE_FALSE(policy_reference(name).empty());
  }
  REQUIRE(text.out.find("(no reference recorded)") == std::string::npos);
  REQUIRE_THAT(text.out, Contains("probability_floor") && Contains("[0, 1]"));
  REQUIRE_THAT(json.out, Contains("{\"key\":\"alpha\",\"default\":\"1\""));
}

// SPDX-License-Identifier: Apache-2.0
// The scenarios shipped in scenarios/: each says what it demonstrates and the
// command that runs it, and is listed in scenarios/README.md; each scenario of
// `recloop simulate` loads with documented keys only and runs a few hundred
// requests through the real binary (smoke tests). Scenarios of other verbs
// (`recloop sessions`) are tested with their verb.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "cli/scenario_config.h"
#include "feedback/closed_loop.h"
#include "policies/ranker_registry.h"
#include "policies/registry.h"
#include "simulator/registry.h"
#include "tests/support/process.h"

using namespace recloop;
using Catch::Matchers::Contains;

namespace {
const std::string kBinary = RECLOOP_BINARY;
const std::string kScenarios = std::string(RECLOOP_SOURCE_DIR) + "/scenarios";

// The `recloop simulate` scenarios, each with a smoke test below.
const std::vector<std::string> kSmokeTested = {"default.ini", "ecommerce_carousel.ini",
                                               "large_catalogue.ini", "news_cold_start.ini",
                                               "popularity_logging.ini"};

std::vector<std::string> scenario_files() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(kScenarios)) {
    if (entry.path().extension() == ".ini") names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The verb whose command the header of scenario `name` shows ("recloop VERB
// scenarios/NAME"); default.ini is what `recloop simulate` runs without one.
// Empty when the header shows none.
std::string verb_of(const std::string& name) {
  if (name == "default.ini") return "simulate";
  const auto text = read_text(kScenarios + "/" + name);
  const std::regex command("recloop ([a-z_]+) scenarios/" + std::regex_replace(name, std::regex("\\."), "\\."));
  std::smatch match;
  return std::regex_search(text, match, command) ? match[1].str() : std::string();
}

std::vector<std::string> simulate_scenarios() {
  std::vector<std::string> names;
  for (const auto& name : scenario_files()) {
    if (verb_of(name) == "simulate") names.push_back(name);
  }
  return names;
}

// The number after "key": following the object of `policy` in --json output.
double policy_field(const std::string& json, const std::string& policy, const std::string& key) {
  const auto at = json.find("\"policy\":\"" + policy + "\"");
  REQUIRE(at != std::string::npos);
  const auto field = json.find("\"" + key + "\":", at);
  REQUIRE(field != std::string::npos);
  return std::stod(json.substr(field + key.size() + 3));
}

// Runs scenario `name` for `steps` requests per policy with --json and checks
// what every run must show: exit 0, every policy of the scenario reported
// with all its requests, and a value per request in [0, slots] (the
// scenarios reward one per click and show at most one click per slot).
// Returns the JSON.
std::string smoke(const std::string& name, int steps) {
  const std::string path = kScenarios + "/" + name;
  Scenario scenario = load_scenario(path);
  const RunConfig run = RunConfig::from(scenario.section("run"));
  const auto result = testing::run_command(kBinary + " simulate " + path + " -q --json" +
                                           " --set run.steps=" + std::to_string(steps));
  INFO(name << ": " << result.err);
  REQUIRE(result.exit_code == 0);
  REQUIRE(result.err.empty());
  for (const auto& policy : run.policies) {
    INFO(policy);
    REQUIRE(policy_field(result.out, policy, "events") == steps);
    const double value = policy_field(result.out, policy, "value");
    REQUIRE(value >= 0.0);
    REQUIRE(value <= static_cast<double>(run.slots));
  }
  return result.out;
}
}  // namespace

TEST_CASE("every simulate scenario uses only documented keys and known sections", "[cli]") {
  for (const auto& name : simulate_scenarios()) {
    INFO(name);
    Scenario scenario = load_scenario(kScenarios + "/" + name);
    const auto world = make_simulator(scenario.section("simulator"));
    const RunConfig run = RunConfig::from(scenario.section("run"));
    std::vector<std::string> known{"run", "simulator", "ranker"};
    for (const auto& policy : policy_names()) {
      known.push_back(policy);
      if (scenario.has_section(policy)) make_policy(policy, scenario.section(policy), world->feature_dim());
    }
    for (const auto& policy : run.policies) make_policy(policy, scenario.section(policy), world->feature_dim());
    make_ranker(run.ranker, scenario.section("ranker"),
                make_policy(run.policies.front(), scenario.section(run.policies.front()),
                            world->feature_dim()));
    REQUIRE_NOTHROW(scenario.reject_unknown_sections(known));
    REQUIRE_NOTHROW(scenario.reject_unknown_keys());
  }
}

TEST_CASE("every scenario says what it demonstrates and the command that runs it", "[cli]") {
  for (const auto& name : scenario_files()) {
    INFO(name);
    const auto text = read_text(kScenarios + "/" + name);
    REQUIRE(text.rfind(";", 0) == 0);  // opens with a comment header
    REQUIRE_THAT(text, Contains("What it demonstrates"));
    REQUIRE_FALSE(verb_of(name).empty());
  }
}

TEST_CASE("scenarios/README.md lists every scenario and each has a smoke test", "[cli]") {
  const auto readme = read_text(kScenarios + "/README.md");
  REQUIRE(simulate_scenarios() == kSmokeTested);
  for (const auto& name : scenario_files()) {
    INFO(name);
    REQUIRE_THAT(readme, Contains("`" + name + "`"));
  }
}

TEST_CASE("the default scenario runs a few hundred steps", "[cli][integration][smoke]") {
  smoke("default.ini", 300);
}

TEST_CASE("the news cold-start scenario runs a few hundred steps", "[cli][integration][smoke]") {
  const auto out = smoke("news_cold_start.ini", 300);
  REQUIRE_THAT(out, Contains("\"world\":\"population\""));
  REQUIRE_THAT(out, Contains("\"oracle_value\":"));
}

TEST_CASE("the e-commerce carousel runs a few hundred 3-slot rankings with exact values",
          "[cli][integration][smoke]") {
  const auto out = smoke("ecommerce_carousel.ini", 200);
  REQUIRE_THAT(out, Contains("\"slots\":3"));
  REQUIRE_THAT(out, Contains("\"value_exact\":true"));
  // pbm: the exact value of a policy never beats the best slate's.
  for (const auto& policy : {"popularity", "softmax_linear", "lin_ucb"}) {
    INFO(policy);
    REQUIRE(policy_field(out, policy, "regret") > 0.0);
    REQUIRE(policy_field(out, policy, "clicks_per_request") <= 3.0);
  }
}

TEST_CASE("the popularity logging scenario runs a few hundred steps", "[cli][integration][smoke]") {
  const auto out = smoke("popularity_logging.ini", 300);
  // Its uniform log feeds the off-policy estimates of both final policies.
  REQUIRE_THAT(out, Contains("\"final_policy\""));
}

TEST_CASE("the large catalogue scenario runs a few hundred steps", "[cli][integration][smoke]") {
  smoke("large_catalogue.ini", 200);
}

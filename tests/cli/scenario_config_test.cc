// SPDX-License-Identifier: Apache-2.0
#include "cli/scenario_config.h"

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "core/error.h"
#include "feedback/closed_loop.h"
#include "policies/epsilon_greedy.h"
#include "policies/lin_ucb.h"
#include "policies/registry.h"
#include "simulator/linear_click_world.h"
#include "simulator/registry.h"
#include "tests/support/process.h"

using namespace recloop;
using Catch::Matchers::Contains;

namespace {
const std::string kDefault = std::string(RECLOOP_SOURCE_DIR) + "/scenarios/default.ini";

std::string write_file(const std::string& text) {
  const auto path = testing::temp_path("scenario.ini");
  std::ofstream(path) << text;
  return path;
}
}  // namespace

TEST_CASE("default.ini spells out exactly the built-in defaults", "[cli]") {
  Scenario scenario = load_scenario(kDefault);
  REQUIRE(LinearClickWorld::Config::from(scenario.section("simulator")) == LinearClickWorld::Config{});
  REQUIRE(scenario.section("simulator").get_string("world", "linear_click", "") == "linear_click");
  REQUIRE(RunConfig::from(scenario.section("run")) == RunConfig{});
  REQUIRE(EpsilonGreedy::Config::from(scenario.section("epsilon_greedy")) == EpsilonGreedy::Config{});
  REQUIRE(LinUcb::Config::from(scenario.section("lin_ucb")) == LinUcb::Config{});
  // Every key in the file was read by some config: nothing stale is left in it.
  REQUIRE_NOTHROW(scenario.reject_unknown_keys());
}

TEST_CASE("every documented key of the built-in configs appears in default.ini", "[cli]") {
  Scenario defaults = default_scenario();
  make_simulator(defaults.section("simulator"));
  RunConfig::from(defaults.section("run"));
  for (const auto& name : RunConfig{}.policies) make_policy(name, defaults.section(name), 12);
  Scenario file = load_scenario(kDefault);
  for (const auto& [name, section] : defaults.sections()) {
    for (const auto& doc : section.described()) {
      INFO("[" << name << "] " << doc.key);
      REQUIRE(file.section(name).has(doc.key));
    }
  }
}

TEST_CASE("a scenario key with a typo is rejected naming file, section and key", "[cli]") {
  const auto path = write_file("[simulator]\nn_itemz = 5\n");
  Scenario scenario = load_scenario(path);
  REQUIRE_THROWS_WITH(make_simulator(scenario.section("simulator")),
                      Contains(path) && Contains("[simulator]") && Contains("n_itemz"));
  std::filesystem::remove(path);
}

TEST_CASE("a missing scenario file is a configuration error naming it", "[cli]") {
  REQUIRE_THROWS_WITH(load_scenario("/nonexistent/x.ini"), Contains("/nonexistent/x.ini"));
}

TEST_CASE("a malformed scenario file names its line", "[cli]") {
  const auto path = write_file("[run]\nsteps = 5\n[broken\n");
  REQUIRE_THROWS_WITH(load_scenario(path), Contains(path + ":3"));
  std::filesystem::remove(path);
}

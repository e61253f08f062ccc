// SPDX-License-Identifier: Apache-2.0
#include "policies/ranker_registry.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>

#include "core/config.h"
#include "core/error.h"
#include "policies/uniform_random.h"
#include "tests/policies/ranker_fixtures.h"

using namespace recloop;
using Catch::Matchers::Contains;

TEST_CASE("every registered ranker is made by its name and reports it", "[policies]") {
  const auto base = std::make_shared<UniformRandom>();
  for (const auto& name : ranker_names()) {
    ConfigSection section(name);
    const auto ranker = make_ranker(name, section, base);
    REQUIRE(ranker->name() == name);
    const Ranking ranking = ranker->rank(testing::first_items_context(4), 2, "r", 1);
    REQUIRE(ranking.policy == name + ":uniform");
  }
}

TEST_CASE("an unknown ranker name is rejected with the known names", "[policies]") {
  ConfigSection section("slate", "scenario.ini");
  REQUIRE_THROWS_WITH(make_ranker("cascade", section, std::make_shared<UniformRandom>()),
                      Contains("scenario.ini") && Contains("cascade") &&
                          Contains("plackett_luce") && Contains("top_k"));
}

TEST_CASE("a ranker's section rejects keys that it does not read", "[policies]") {
  for (const auto& name : ranker_names()) {
    ConfigSection section(name);
    section.set("epsilom", "0.1");
    REQUIRE_THROWS_AS(make_ranker(name, section, std::make_shared<UniformRandom>()), ConfigError);
  }
}

TEST_CASE("the epsilon greedy ranker documents its key with default and range", "[policies]") {
  ConfigSection section("epsilon_greedy");
  section.set("epsilon", "0.25");
  const auto ranker = make_ranker("epsilon_greedy", section, std::make_shared<UniformRandom>());
  REQUIRE(section.described().size() == 1);
  REQUIRE(section.described()[0].key == "epsilon");
  REQUIRE(section.described()[0].default_value == "0.1");
  REQUIRE(section.described()[0].range == "[0, 1]");
  ConfigSection bad("epsilon_greedy");
  bad.set("epsilon", "-1");
  REQUIRE_THROWS_AS(make_ranker("epsilon_greedy", bad, std::make_shared<UniformRandom>()),
                    ConfigError);
}

TEST_CASE("a ranker needs a base policy", "[policies]") {
  for (const auto& name : ranker_names()) {
    ConfigSection section(name);
    REQUIRE_THROWS_AS(make_ranker(name, section, nullptr), std::invalid_argument);
  }
}

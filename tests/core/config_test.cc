// SPDX-License-Identifier: Apache-2.0
#include "core/config.h"

#include <catch2/catch.hpp>

#include "core/error.h"

using namespace recloop;
using Catch::Matchers::Contains;

TEST_CASE("an absent key reads as its default", "[core]") {
  ConfigSection s("lin_ucb", "x.ini");
  REQUIRE(s.get_double("alpha", 1.5, 0.0, 10.0, "width") == 1.5);
  REQUIRE(s.described().size() == 1);
  REQUIRE(s.described()[0].default_value == "1.5");
}

TEST_CASE("a value out of range names file, section, key, value and range", "[core]") {
  ConfigSection s("lin_ucb", "x.ini");
  s.set("alpha", "-3");
  REQUIRE_THROWS_WITH(s.get_double("alpha", 1.0, 0.0, 10.0, "width"),
                      Contains("x.ini") && Contains("[lin_ucb]") && Contains("alpha") &&
                          Contains("-3") && Contains("[0, 10]"));
}

TEST_CASE("a malformed number is rejected with its key", "[core]") {
  ConfigSection s("run", "x.ini");
  s.set("steps", "12abc");
  REQUIRE_THROWS_AS(s.get_int("steps", 10, 1, 100, "steps"), ConfigError);
  s.set("rate", "nan");
  REQUIRE_THROWS_WITH(s.get_double("rate", 1.0, 0.0, 2.0, "r"), Contains("rate"));
}

TEST_CASE("an unknown key is rejected with a message naming it", "[core]") {
  ConfigSection s("epsilon_greedy", "x.ini");
  s.set("epsilom", "0.1");
  s.get_double("epsilon", 0.1, 0.0, 1.0, "exploration");
  REQUIRE_THROWS_WITH(s.reject_unknown(),
                      Contains("x.ini") && Contains("unknown key 'epsilom'") && Contains("epsilon"));
}

TEST_CASE("a --set override names its origin in errors", "[core]") {
  Scenario scenario("x.ini");
  scenario.apply_override("run.steps=zero");
  REQUIRE_THROWS_WITH(scenario.section("run").get_int("steps", 1, 1, 10, "steps"),
                      Contains("--set") && Contains("steps"));
  REQUIRE_THROWS_AS(scenario.apply_override("nodot=1"), ConfigError);
  REQUIRE_THROWS_AS(scenario.apply_override("run.steps"), ConfigError);
}

TEST_CASE("an unknown section is rejected", "[core]") {
  Scenario scenario("x.ini");
  scenario.section("polcy");
  REQUIRE_THROWS_WITH(scenario.reject_unknown_sections({"run", "policy"}), Contains("[polcy]"));
}

TEST_CASE("choices and lists are validated", "[core]") {
  ConfigSection s("run", "x.ini");
  s.set("mode", "fast");
  REQUIRE_THROWS_WITH(s.get_choice("mode", "a", {"a", "b"}, "m"), Contains("one of: a, b"));
  s.set("policies", "uniform, lin_ucb ,epsilon_greedy");
  REQUIRE(s.get_list("policies", "", "p") ==
          std::vector<std::string>{"uniform", "lin_ucb", "epsilon_greedy"});
}

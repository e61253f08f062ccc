// SPDX-License-Identifier: Apache-2.0
#include "policies/registry.h"

#include <algorithm>
#include <set>

#include <catch2/catch.hpp>

#include "core/config.h"
#include "core/error.h"
#include "policies/epsilon_greedy.h"
#include "policies/lin_ucb.h"

using namespace recloop;
using Catch::Matchers::Contains;

TEST_CASE("every registered policy is made by its name", "[policies]") {
  const auto names = policy_names();
  REQUIRE(std::set<std::string>(names.begin(), names.end()).size() == names.size());
  for (const char* foundation : {"uniform", "epsilon_greedy", "lin_ucb"}) {
    REQUIRE(std::find(names.begin(), names.end(), foundation) != names.end());
  }
  for (const auto& name : policy_names()) {
    ConfigSection section(name, "x.ini");
    const auto policy = make_policy(name, section, 6);
    REQUIRE(policy->name() == name);
    REQUIRE(policy->model_version() == 0);
  }
}

TEST_CASE("an unknown policy name is rejected with the known names", "[policies]") {
  ConfigSection section("policy", "scenarios/x.ini");
  REQUIRE_THROWS_AS(make_policy("lin_ucbb", section, 6), ConfigError);
  std::string known;
  for (const auto& name : policy_names()) known += (known.empty() ? "" : ", ") + name;
  REQUIRE_THROWS_WITH(make_policy("lin_ucbb", section, 6),
                      "scenarios/x.ini: unknown policy 'lin_ucbb' (known: " + known + ")");
}

TEST_CASE("a policy's settings come from its section", "[policies]") {
  ConfigSection section("policy", "x.ini");
  section.set("alpha", "0.25");
  const auto policy = make_policy("lin_ucb", section, 6);
  const auto& lin_ucb = dynamic_cast<const LinUcb&>(*policy);
  REQUIRE(lin_ucb.config() == LinUcb::Config{.alpha = 0.25});
  REQUIRE(lin_ucb.feature_dim() == 6);
}

TEST_CASE("a key the policy does not read is rejected", "[policies]") {
  SECTION("a typo") {
    ConfigSection section("policy", "x.ini");
    section.set("epsilom", "0.2");
    REQUIRE_THROWS_WITH(make_policy("epsilon_greedy", section, 6),
                        Contains("unknown key 'epsilom'") && Contains("epsilon, ridge"));
  }
  SECTION("another policy's key") {
    ConfigSection section("policy", "x.ini");
    section.set("alpha", "1");
    REQUIRE_THROWS_AS(make_policy("uniform", section, 6), ConfigError);
  }
}

TEST_CASE("an out-of-range setting is rejected with its key and range", "[policies]") {
  ConfigSection section("policy", "x.ini");
  section.set("epsilon", "2");
  REQUIRE_THROWS_WITH(make_policy("epsilon_greedy", section, 6),
                      Contains("x.ini: [policy] epsilon = '2'") && Contains("[0, 1]"));
}

// SPDX-License-Identifier: Apache-2.0
#include "evaluation/slate_registry.h"

#include <catch2/catch.hpp>

#include <string>

#include "core/error.h"

using namespace recloop;

TEST_CASE("every slate estimator name makes an estimator that reports that name",
          "[evaluation]") {
  const auto names = slate_estimator_names();
  REQUIRE(names.size() == 6);
  for (const auto& name : names) {
    const auto estimator = make_slate_estimator(name);
    REQUIRE(estimator);
    CHECK(estimator->name() == name);
  }
  CHECK_FALSE(slate_estimator_needs_conditionals("independent_ips"));
  CHECK_FALSE(slate_estimator_needs_conditionals("independent_snips"));
  CHECK(slate_estimator_needs_conditionals("slate_ips"));
  CHECK(slate_estimator_needs_conditionals("snrips"));
}

TEST_CASE("an unknown slate estimator is refused listing the known ones", "[evaluation]") {
  REQUIRE_THROWS_AS(make_slate_estimator("slate_magic"), ConfigError);
  REQUIRE_THROWS_WITH(make_slate_estimator("slate_magic"),
                      Catch::Contains("slate_magic") && Catch::Contains("independent_ips"));
}

TEST_CASE("the slate estimators agree on a ranking the target shows exactly as logged",
          "[evaluation]") {
  // Target = logger on one ranking with rewards (1, 0, 1): every weight is 1,
  // so every estimator returns the ranking's total reward.
  SlateInteraction slate{"r", {}};
  const double rewards[3] = {1.0, 0.0, 1.0};
  for (int k = 0; k < 3; ++k) {
    SlateSlot s;
    s.action = static_cast<ActionId>(k);
    s.logged_conditional = s.target_conditional = 0.5;
    s.logged_marginal = s.target_marginal = 0.25;
    s.reward = rewards[k];
    slate.slots.push_back(s);
  }
  for (const auto& name : slate_estimator_names()) {
    const auto estimator = make_slate_estimator(name);
    estimator->add(slate);
    estimator->add(slate);
    INFO(name);
    CHECK(estimator->estimate().value == Approx(2.0).epsilon(1e-15));
  }
}

TEST_CASE("independent IPS scores rankings logged without conditionals, the others refuse them",
          "[evaluation]") {
  SlateInteraction slate{"old-ranking", {}};
  for (int k = 0; k < 2; ++k) {
    SlateSlot s;
    s.action = static_cast<ActionId>(k);
    s.logged_conditional = k == 0 ? 0.5 : 0.0;  // slot 1: not logged
    s.logged_marginal = 0.5;
    s.target_conditional = 0.5;
    s.target_marginal = 0.25;
    s.reward = 1.0;
    slate.slots.push_back(s);
  }
  for (const auto& name : slate_estimator_names()) {
    INFO(name);
    const auto estimator = make_slate_estimator(name);
    if (slate_estimator_needs_conditionals(name)) {
      REQUIRE_THROWS_WITH(estimator->add(slate),
                          Catch::Contains("old-ranking") && Catch::Contains("slot 1"));
    } else {
      REQUIRE_NOTHROW(estimator->add(slate));
    }
  }
}

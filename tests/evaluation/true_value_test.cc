// SPDX-License-Identifier: Apache-2.0
#include "evaluation/true_value.h"

#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/evaluation/click_world.h"

using namespace recloop;
using namespace recloop::testing;

TEST_CASE("the expected value of a pmf is its truth-weighted sum", "[evaluation]") {
  const std::vector<double> pmf{0.2, 0.3, 0.5};
  const std::vector<double> truth{1.0, 0.0, 0.4};
  REQUIRE(expected_value(pmf, truth) == Approx(0.2 + 0.2).epsilon(1e-15));
  REQUIRE_THROWS_AS(expected_value(pmf, std::vector<double>{1.0}), std::invalid_argument);
}

TEST_CASE("the true value averages the target's exact value over contexts with truth", "[evaluation]") {
  Interaction first = hand_interaction(0.5, 1.0);
  first.truth = {0.2, 0.6};
  Interaction second = hand_interaction(0.5, 0.0);
  second.truth = {0.4, 0.0};
  const Interaction live = hand_interaction(0.5, 1.0);  // no truth: skipped
  const std::vector<double> target{0.5, 0.5};

  TrueValueAccumulator accumulator;
  REQUIRE_FALSE(accumulator.value().has_value());
  accumulator.add(first, target);
  accumulator.add(live, target);
  accumulator.add(second, target);
  // Exact values 0.4 and 0.2 on the two contexts with truth.
  REQUIRE(accumulator.value().value() == Approx(0.3).epsilon(1e-15));
  REQUIRE(accumulator.count() == 2);
  REQUIRE(accumulator.skipped() == 1);
}

TEST_CASE("a truth vector of the wrong size is rejected with the event id", "[evaluation]") {
  Interaction bad = hand_interaction(0.5, 1.0, 2, 0, "evt-9");
  bad.truth = {0.2, 0.6, 0.1};
  TrueValueAccumulator accumulator;
  REQUIRE_THROWS_WITH(accumulator.add(bad, std::vector<double>{0.5, 0.5}),
                      Catch::Matchers::Contains("evt-9"));
}

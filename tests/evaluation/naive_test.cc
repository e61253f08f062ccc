// SPDX-License-Identifier: Apache-2.0
#include "evaluation/naive.h"

#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/evaluation/click_world.h"

using namespace recloop;
using namespace recloop::testing;

TEST_CASE("the naive estimate is the mean logged reward whatever the target", "[evaluation]") {
  // Rewards 1, 0, 2: mean 1, sample variance (0 + 1 + 1) / 2 = 1, SE = sqrt(1 / 3).
  NaiveEstimator naive;
  naive.add(hand_interaction(0.5, 1.0), std::vector<double>{1.0, 0.0});
  naive.add(hand_interaction(0.5, 0.0), std::vector<double>{0.0, 1.0});
  naive.add(hand_interaction(0.5, 2.0), std::vector<double>{0.5, 0.5});
  const Estimate e = naive.estimate();
  REQUIRE(e.value == Approx(1.0).epsilon(1e-15));
  REQUIRE(e.std_error == Approx(std::sqrt(1.0 / 3.0)).epsilon(1e-12));
}

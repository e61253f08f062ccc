// SPDX-License-Identifier: Apache-2.0
#include "evaluation/snips.h"

#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/evaluation/click_world.h"

using namespace recloop;
using namespace recloop::testing;

TEST_CASE("snips of a constant reward is that constant with no error", "[evaluation]") {
  // Σ w c / Σ w = c for any weights, and every residual w (c - V̂) is zero.
  const ClickWorld world;
  const PmfFunction target = softmax_on_truth(world, 8.0);
  auto log = draw_log(world, softmax_on_truth(world, -3.0), 2000, 12);
  SnipsEstimator snips;
  for (auto& i : log) {
    i.reward = 0.3;
    snips.add(i, target(i.context));
  }
  const Estimate e = snips.estimate();
  REQUIRE(e.value == Approx(0.3).epsilon(1e-12));
  REQUIRE(e.std_error == Approx(0.0).margin(1e-9));
}

TEST_CASE("snips divides the weighted rewards by the sum of weights", "[evaluation]") {
  // Weights 0.8 / 0.5 = 1.6 and 0.2 / 0.25 = 0.8, rewards 1 and 3:
  // V̂ = (1.6 + 2.4) / 2.4 = 5/3. Delta method: residuals w (r - V̂) are
  // 1.6 (1 - 5/3) = -16/15 and 0.8 (3 - 5/3) = 16/15, so the mean of squares is
  // (16/15)², the mean weight 1.2 and n = 2: SE = sqrt((16/15)² / 2) / 1.2.
  SnipsEstimator snips;
  snips.add(hand_interaction(0.5, 1.0), std::vector<double>{0.8, 0.2});
  snips.add(hand_interaction(0.25, 3.0), std::vector<double>{0.2, 0.8});
  const Estimate e = snips.estimate();
  REQUIRE(e.value == Approx(5.0 / 3.0).epsilon(1e-14));
  REQUIRE(e.std_error == Approx(std::sqrt((16.0 / 15.0) * (16.0 / 15.0) / 2.0) / 1.2).epsilon(1e-12));
  REQUIRE(e.n == 2);
}

TEST_CASE("snips has no value while every weight is zero", "[evaluation]") {
  SnipsEstimator snips;
  snips.add(hand_interaction(0.5, 1.0), std::vector<double>{0.0, 1.0});
  snips.add(hand_interaction(0.5, 0.0), std::vector<double>{0.0, 1.0});
  const Estimate e = snips.estimate();
  REQUIRE(std::isnan(e.value));
  REQUIRE(std::isinf(e.std_error));
  REQUIRE(e.n == 2);
}

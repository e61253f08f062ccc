// SPDX-License-Identifier: Apache-2.0
#include "evaluation/ips.h"

#include <limits>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/evaluation/click_world.h"

using namespace recloop;
using namespace recloop::testing;

TEST_CASE("ips with the logging policy as target equals the mean logged reward", "[evaluation]") {
  // Every weight is pmf[a] / pmf[a] = 1 exactly, so IPS is the plain mean.
  const ClickWorld world;
  const PmfFunction logging = softmax_on_truth(world, -3.0);
  const auto log = draw_log(world, logging, 2000, 11);
  IpsEstimator ips;
  double total = 0.0;
  for (const auto& i : log) {
    ips.add(i, logging(i.context));
    total += i.reward;
  }
  const Estimate e = ips.estimate();
  REQUIRE(e.n == log.size());
  REQUIRE(e.value == Approx(total / static_cast<double>(log.size())).margin(1e-12));
}

TEST_CASE("ips weights each reward by target over logging probability", "[evaluation]") {
  // Terms: (0.8 / 0.5)·1 = 1.6 and (0.1 / 0.25)·3 = 1.2; mean 1.4, sample
  // variance ((0.2)² + (0.2)²) / 1 = 0.08, SE = sqrt(0.08 / 2) = 0.2.
  IpsEstimator ips;
  ips.add(hand_interaction(0.5, 1.0), std::vector<double>{0.8, 0.2});
  ips.add(hand_interaction(0.25, 3.0), std::vector<double>{0.1, 0.9});
  const Estimate e = ips.estimate();
  REQUIRE(e.value == Approx(1.4).epsilon(1e-14));
  REQUIRE(e.std_error == Approx(0.2).epsilon(1e-12));
}

TEST_CASE("ips clips weights above max_weight", "[evaluation]") {
  // Weight 0.9 / 0.1 = 9 is clipped to 2; weight 0.5 / 0.5 = 1 is left alone.
  IpsEstimator ips(2.0);
  ips.add(hand_interaction(0.1, 1.0), std::vector<double>{0.9, 0.1});
  ips.add(hand_interaction(0.5, 1.0), std::vector<double>{0.5, 0.5});
  REQUIRE(ips.estimate().value == Approx((2.0 + 1.0) / 2.0).epsilon(1e-15));
}

TEST_CASE("ips rejects a max_weight that is not positive", "[evaluation]") {
  REQUIRE_THROWS_AS(IpsEstimator(0.0), std::invalid_argument);
  REQUIRE_THROWS_AS(IpsEstimator(-1.0), std::invalid_argument);
  REQUIRE_THROWS_AS(IpsEstimator(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
}

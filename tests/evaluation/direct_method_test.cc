// SPDX-License-Identifier: Apache-2.0
#include "evaluation/direct_method.h"

#include <memory>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "evaluation/true_value.h"
#include "tests/evaluation/click_world.h"

using namespace recloop;
using namespace recloop::testing;

TEST_CASE("dm with the exact reward model equals the exact value on the same contexts", "[evaluation]") {
  const ClickWorld world;
  const PmfFunction target = softmax_on_truth(world, 8.0);
  const auto log = draw_log(world, uniform_pmf, 2000, 31);
  DirectMethodEstimator dm(std::make_shared<TruthRewardModel>(world));
  TrueValueAccumulator truth;
  for (const auto& i : log) {
    const auto pmf = target(i.context);
    dm.add(i, pmf);
    truth.add(i, pmf);
  }
  REQUIRE(dm.estimate().value == Approx(truth.value().value()).margin(1e-12));
}

TEST_CASE("dm ignores the logged actions and rewards", "[evaluation]") {
  // A constant model gives the constant, whatever was logged or rewarded.
  DirectMethodEstimator dm(std::make_shared<ConstantRewardModel>(0.7));
  dm.add(hand_interaction(0.5, 1.0, 3, 0), std::vector<double>{0.2, 0.3, 0.5});
  dm.add(hand_interaction(0.1, 0.0, 3, 2), std::vector<double>{1.0, 0.0, 0.0});
  const Estimate e = dm.estimate();
  REQUIRE(e.value == Approx(0.7).epsilon(1e-15));
  REQUIRE(e.std_error == Approx(0.0).margin(1e-15));
}

TEST_CASE("dm without a reward model is rejected", "[evaluation]") {
  REQUIRE_THROWS_AS(DirectMethodEstimator(nullptr), std::invalid_argument);
}

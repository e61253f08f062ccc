// SPDX-License-Identifier: Apache-2.0
// SNDR, Switch-DR, DRos and replay: their limits, hand-computed values and
// independence from row order.
#include <algorithm>
#include <limits>
#include <memory>
#include <vector>

#include <catch2/catch.hpp>

#include "evaluation/direct_method.h"
#include "evaluation/doubly_robust.h"
#include "evaluation/dr_shrinkage.h"
#include "evaluation/registry.h"
#include "evaluation/replay.h"
#include "evaluation/self_normalized_dr.h"
#include "evaluation/switch_dr.h"
#include "core/sampling.h"
#include "tests/evaluation/click_world.h"

using namespace recloop;
using namespace recloop::testing;

namespace {

Estimate run(Estimator& estimator, const std::vector<Interaction>& log, const PmfFunction& target) {
  for (const auto& i : log) estimator.add(i, target(i.context));
  return estimator.estimate();
}

}  // namespace

TEST_CASE("switch-dr is dr with an infinite threshold and dm with a zero one", "[evaluation]") {
  const ClickWorld world;
  const auto model = std::make_shared<ConstantRewardModel>(0.3);
  const auto log = draw_log(world, softmax_on_truth(world, -2.0), 500, 3);
  const PmfFunction target = softmax_on_truth(world, 4.0);  // every weight > 0
  DoublyRobustEstimator dr(model);
  DirectMethodEstimator dm(model);
  SwitchDrEstimator as_dr(model, {.tau = std::numeric_limits<double>::infinity()});
  SwitchDrEstimator as_dm(model, {.tau = 0.0});
  REQUIRE(run(as_dr, log, target).value == Approx(run(dr, log, target).value).epsilon(1e-12));
  REQUIRE(run(as_dm, log, target).value == Approx(run(dm, log, target).value).epsilon(1e-12));
  REQUIRE(as_dm.switched() == log.size());
}

TEST_CASE("switch-dr drops the correction exactly where the weight exceeds tau", "[evaluation]") {
  // Model 0.5 everywhere (direct part 0.5). Row 1: w = 0.8/0.5 = 1.6 <= 2,
  // term 0.5 + 1.6 (1 - 0.5) = 1.3. Row 2: w = 0.9/0.25 = 3.6 > 2, term 0.5.
  SwitchDrEstimator estimator(std::make_shared<ConstantRewardModel>(0.5), {.tau = 2.0});
  estimator.add(hand_interaction(0.5, 1.0, 2, 0, "a"), std::vector<double>{0.8, 0.2});
  estimator.add(hand_interaction(0.25, 1.0, 2, 0, "b"), std::vector<double>{0.9, 0.1});
  REQUIRE(estimator.estimate().value == Approx((1.3 + 0.5) / 2).epsilon(1e-14));
  REQUIRE(estimator.switched() == 1);
}

TEST_CASE("dros shrinks each weight to lambda w over w squared plus lambda", "[evaluation]") {
  // w = 2, λ = 4: 4·2/(4 + 4) = 1. λ = 0 gives 0 (DM), λ = ∞ gives w (DR).
  REQUIRE(DrShrinkageEstimator::shrink(2.0, 4.0) == 1.0);
  REQUIRE(DrShrinkageEstimator::shrink(2.0, 0.0) == 0.0);
  REQUIRE(DrShrinkageEstimator::shrink(2.0, std::numeric_limits<double>::infinity()) == 2.0);
  // Row: model 0.5, w = 0.5/0.25 = 2, reward 1: term 0.5 + 1·(1 - 0.5) = 1.
  DrShrinkageEstimator estimator(std::make_shared<ConstantRewardModel>(0.5), {.lambda = 4.0});
  estimator.add(hand_interaction(0.25, 1.0, 2, 0, "a"), std::vector<double>{0.5, 0.5});
  REQUIRE(estimator.estimate().value == Approx(1.0).epsilon(1e-15));
}

TEST_CASE("dros is dr with infinite lambda and dm with lambda zero", "[evaluation]") {
  const ClickWorld world;
  const auto model = std::make_shared<ConstantRewardModel>(0.2);
  const auto log = draw_log(world, softmax_on_truth(world, -2.0), 500, 4);
  const PmfFunction target = softmax_on_truth(world, 4.0);
  DoublyRobustEstimator dr(model);
  DirectMethodEstimator dm(model);
  DrShrinkageEstimator as_dr(model, {.lambda = std::numeric_limits<double>::infinity()});
  DrShrinkageEstimator as_dm(model, {.lambda = 0.0});
  REQUIRE(run(as_dr, log, target).value == Approx(run(dr, log, target).value).epsilon(1e-12));
  REQUIRE(run(as_dm, log, target).value == Approx(run(dm, log, target).value).epsilon(1e-12));
}

TEST_CASE("sndr adds the self-normalised mean residual to the direct value", "[evaluation]") {
  // Model 0.5, direct part 0.5 on both rows. Row 1: w = 0.8/0.5 = 1.6,
  // residual 1 - 0.5; row 2: w = 0.2/0.25 = 0.8, residual 0 - 0.5.
  // V̂ = 0.5 + (1.6·0.5 - 0.8·0.5)/(1.6 + 0.8) = 0.5 + 0.4/2.4.
  SelfNormalizedDrEstimator sndr(std::make_shared<ConstantRewardModel>(0.5));
  sndr.add(hand_interaction(0.5, 1.0, 2, 0, "a"), std::vector<double>{0.8, 0.2});
  sndr.add(hand_interaction(0.25, 0.0, 2, 0, "b"), std::vector<double>{0.2, 0.8});
  REQUIRE(sndr.estimate().value == Approx(0.5 + 0.4 / 2.4).epsilon(1e-14));
}

TEST_CASE("sndr with a constant reward and an exact model is that constant with no error",
          "[evaluation]") {
  const ClickWorld world;
  auto log = draw_log(world, softmax_on_truth(world, -3.0), 1000, 8);
  for (auto& i : log) i.reward = 0.4;
  SelfNormalizedDrEstimator sndr(std::make_shared<ConstantRewardModel>(0.4));
  const Estimate e = run(sndr, log, softmax_on_truth(world, 6.0));
  REQUIRE(e.value == Approx(0.4).epsilon(1e-12));
  REQUIRE(e.std_error == Approx(0.0).margin(1e-9));
}

TEST_CASE("replay averages the rewards of the events where the target picks the logged action",
          "[evaluation]") {
  // A deterministic target accepts rows 1 and 3 (it picks candidate 0).
  ReplayEstimator replay;
  replay.add(hand_interaction(0.5, 1.0, 2, 0, "a"), std::vector<double>{1.0, 0.0});
  replay.add(hand_interaction(0.5, 1.0, 2, 1, "b"), std::vector<double>{1.0, 0.0});
  replay.add(hand_interaction(0.5, 0.0, 2, 0, "c"), std::vector<double>{1.0, 0.0});
  const Estimate e = replay.estimate();
  REQUIRE(e.n == 2);
  REQUIRE(e.value == 0.5);
  REQUIRE(replay.seen() == 3);
}

TEST_CASE("the new estimators give bit-identical estimates for a shuffled log", "[evaluation]") {
  const ClickWorld world;
  const auto model = std::make_shared<TruthRewardModel>(world);
  auto log = draw_log(world, softmax_on_truth(world, -2.0), 3000, 21);
  const PmfFunction target = softmax_on_truth(world, 3.0);
  auto all = [&](const std::vector<Interaction>& rows) {
    std::vector<Estimate> out;
    for (const char* name : {"sndr", "switch_dr", "dros", "replay"}) {
      auto estimator = make_estimator(name, model);
      out.push_back(run(*estimator, rows, target));
    }
    return out;
  };
  const auto before = all(log);
  Rng rng(99);
  for (std::size_t i = log.size() - 1; i > 0; --i) {
    std::swap(log[i], log[uniform_index(rng, i + 1)]);
  }
  const auto after = all(log);
  for (std::size_t k = 0; k < before.size(); ++k) {
    REQUIRE(before[k].value == after[k].value);
    REQUIRE(before[k].std_error == after[k].std_error);
  }
}

// SPDX-License-Identifier: Apache-2.0
// The tabular and logistic reward models and K-fold cross-fitting.
#include <cmath>
#include <memory>
#include <set>
#include <span>
#include <vector>

#include <catch2/catch.hpp>

#include "core/rng.h"
#include "core/sampling.h"
#include "evaluation/cross_fit.h"
#include "evaluation/logistic_reward_model.h"
#include "evaluation/tabular_reward_model.h"
#include "tests/evaluation/click_world.h"

using namespace recloop;
using namespace recloop::testing;

TEST_CASE("the tabular model predicts each item's mean reward and the overall mean otherwise",
          "[evaluation]") {
  // Item 0: rewards 1, 0, 1 → 2/3; item 1: reward 0.5; overall (1 + 0 + 1 + 0.5)/4.
  TabularRewardModel model;
  model.add(hand_interaction(0.5, 1.0, 2, 0, "a"));
  model.add(hand_interaction(0.5, 0.0, 2, 0, "b"));
  model.add(hand_interaction(0.5, 1.0, 2, 0, "c"));
  model.add(hand_interaction(0.5, 0.5, 2, 1, "d"));
  const Interaction probe = hand_interaction(0.5, 0.0, 3, 0, "p");  // items 0, 1, 2
  REQUIRE(model.predict(probe.context, 0) == Approx(2.0 / 3.0).epsilon(1e-15));
  REQUIRE(model.predict(probe.context, 1) == 0.5);
  REQUIRE(model.predict(probe.context, 2) == Approx(2.5 / 4.0).epsilon(1e-15));
  REQUIRE(model.observations(0) == 3);
}

TEST_CASE("the logistic model recovers the coefficients of a logistic click model",
          "[evaluation][statistical]") {
  // Clicks ~ Bernoulli(σ(1.5 u0 - 1 u1 + 0.5 f0 - 0.3)), n = 20,000, weak
  // ridge (λ = 1e-3). The MLE's sd per coefficient is about
  // 1/sqrt(n·Var(x)·p(1-p)) ≈ 1/sqrt(20000·(1/12)·0.2) ≈ 0.05 for uniform
  // features; 0.25 is about 5 sd.
  Rng rng(17);
  LogisticRewardModel model({.lambda = 1e-3}, 3);
  const double theta[4] = {1.5, -1.0, 0.5, -0.3};
  for (int n = 0; n < 20000; ++n) {
    Interaction i;
    i.event_id = std::to_string(n);
    i.context.user = Eigen::Vector2d(uniform01(rng), uniform01(rng));
    i.context.actions = Eigen::MatrixXd(1, 1);
    i.context.actions(0, 0) = uniform01(rng);
    i.context.items = {0};
    const double z = theta[0] * i.context.user[0] + theta[1] * i.context.user[1] +
                     theta[2] * i.context.actions(0, 0) + theta[3];
    i.reward = bernoulli(rng, 1.0 / (1.0 + std::exp(-z)));
    i.probability = 1.0;
    model.add(i);
  }
  model.fit();
  for (int k = 0; k < 4; ++k) {
    INFO("coefficient " << k << ": " << model.coefficients()[k]);
    REQUIRE(std::abs(model.coefficients()[k] - theta[k]) <= 0.25);
  }
  REQUIRE(model.iterations() < 50);  // converged
}

TEST_CASE("the logistic model rejects rewards outside [0, 1]", "[evaluation]") {
  LogisticRewardModel model({}, 2);
  REQUIRE_THROWS_AS(model.add(hand_interaction(0.5, 2.0)), std::invalid_argument);
}

namespace {

// A model that remembers the event ids it was trained on.
class RecordingModel final : public RewardModel {
 public:
  explicit RecordingModel(std::span<const Interaction* const> rows) {
    for (const Interaction* i : rows) seen.insert(i->event_id);
  }
  double predict(const Context&, ActionId) const override { return 0.0; }
  std::set<EventId> seen;
};

}  // namespace

TEST_CASE("cross-fitting predicts every row with a model that never saw it", "[evaluation]") {
  const ClickWorld world;
  const auto log = draw_log(world, uniform_pmf, 500, 9);
  std::vector<std::shared_ptr<const RecordingModel>> made;
  const RewardModelFitter fitter = [&](std::span<const Interaction* const> rows) {
    auto model = std::make_shared<const RecordingModel>(rows);
    made.push_back(model);
    return std::shared_ptr<const RewardModel>(model);
  };
  const CrossFitRewardModel cross_fit({.folds = 4, .seed = 2}, fitter, log);
  REQUIRE(made.size() == 4);
  std::vector<int> fold_sizes(4, 0);
  for (const auto& i : log) {
    const std::size_t k = cross_fit.fold(i.event_id);
    ++fold_sizes[k];
    REQUIRE(made[k]->seen.count(i.event_id) == 0);
    for (std::size_t other = 0; other < 4; ++other) {
      if (other != k) REQUIRE(made[other]->seen.count(i.event_id) == 1);
    }
  }
  // Folds are hash-based: each holds roughly a quarter (Binomial(500, 1/4), sd 9.7).
  for (int size : fold_sizes) REQUIRE(std::abs(size - 125) <= 50);
}

TEST_CASE("the tabular model keeps one mean per item and slot", "[evaluation]") {
  // Item 0 at slot 0: rewards 1, 1 → 1; at slot 1: 0 → 0; over both slots 2/3.
  TabularRewardModel model;
  for (std::uint32_t slot : {0u, 0u, 1u}) {
    Interaction i = hand_interaction(0.5, slot == 0 ? 1.0 : 0.0, 2, 0, "x");
    i.slot = slot;
    model.add(i);
  }
  const Interaction probe = hand_interaction(0.5, 0.0, 2, 0, "p");
  REQUIRE(model.predict_at(probe.context, 0, 0) == 1.0);
  REQUIRE(model.predict_at(probe.context, 0, 1) == 0.0);
  REQUIRE(model.predict_at(probe.context, 0, 5) == Approx(2.0 / 3.0).epsilon(1e-15));
  REQUIRE(model.predict(probe.context, 0) == Approx(2.0 / 3.0).epsilon(1e-15));
}

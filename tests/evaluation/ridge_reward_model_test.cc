// SPDX-License-Identifier: Apache-2.0
#include "evaluation/ridge_reward_model.h"

#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "core/sampling.h"
#include "tests/evaluation/click_world.h"

using namespace recloop;
using namespace recloop::testing;
using Catch::Matchers::Contains;

namespace {

// Two candidates with one all-zero item feature and a uniform user feature.
Interaction two_item_interaction(Rng& rng, ItemId first, ItemId second, ActionId action,
                                 double reward) {
  Interaction i;
  i.event_id = EventId("r");
  i.context.user = Eigen::VectorXd::Constant(1, uniform01(rng));
  i.context.actions = Eigen::MatrixXd::Zero(1, 2);
  i.context.items = {first, second};
  i.action = action;
  i.probability = 0.5;
  i.reward = reward;
  return i;
}

}  // namespace

TEST_CASE("a per-item ridge model recovers a noiseless linear reward", "[evaluation]") {
  // Rewards are q(x, a) itself, linear per item; with a negligible penalty the
  // per-item least-squares fit reproduces q up to rounding.
  const ClickWorld world;
  auto log = draw_log(world, uniform_pmf, 3000, 21);
  RidgeRewardModel model({.lambda = 1e-6}, world.feature_dim());
  for (auto& i : log) {
    i.reward = i.truth[i.action];
    model.add(i);
  }
  model.fit();
  Rng rng(22);
  for (int k = 0; k < 100; ++k) {
    const Context context = world.next_context(rng);
    for (ActionId a = 0; a < context.size(); ++a) {
      REQUIRE(model.predict(context, a) == Approx(world.expected_reward(context, a)).margin(1e-6));
    }
  }
}

TEST_CASE("items with their own model are predicted by it", "[evaluation]") {
  // Item 1 never clicks, item 2 always does: the exact per-item solutions are
  // θ = 0 and θ = intercept 1 (X'y = X'1 is the intercept column of X'X).
  Rng rng(23);
  RidgeRewardModel model({}, 2);
  for (int k = 0; k < 50; ++k) {
    model.add(two_item_interaction(rng, 1, 2, 0, 0.0));
    model.add(two_item_interaction(rng, 1, 2, 1, 1.0));
  }
  model.fit();
  REQUIRE(model.has_item_model(1));
  REQUIRE(model.has_item_model(2));
  const Interaction probe = two_item_interaction(rng, 1, 2, 0, 0.0);
  REQUIRE(model.predict(probe.context, 0) == Approx(0.0).margin(1e-12));
  REQUIRE(model.predict(probe.context, 1) == Approx(1.0).margin(1e-12));
}

TEST_CASE("items never seen or seen too rarely are predicted by the pooled model", "[evaluation]") {
  // The same data fed to a model that pools every item (a minimum no item
  // reaches) must give identical predictions for the unseen item 7 and for
  // item 3, seen fewer times than the minimum of 10.
  Rng rng(24);
  RidgeRewardModel model({.min_item_observations = 10}, 2);
  RidgeRewardModel pooled_only({.min_item_observations = 1000000}, 2);
  auto add = [&](const Interaction& i) {
    model.add(i);
    pooled_only.add(i);
  };
  for (int k = 0; k < 50; ++k) {
    add(two_item_interaction(rng, 1, 2, 0, 0.0));
    add(two_item_interaction(rng, 1, 2, 1, 1.0));
  }
  for (int k = 0; k < 3; ++k) add(two_item_interaction(rng, 3, 1, 0, 1.0));
  model.fit();
  pooled_only.fit();

  REQUIRE(model.observations(3) == 3);
  REQUIRE_FALSE(model.has_item_model(3));
  REQUIRE(model.observations(7) == 0);
  REQUIRE_FALSE(model.has_item_model(7));
  const Interaction probe = two_item_interaction(rng, 7, 3, 0, 0.0);
  REQUIRE(model.predict(probe.context, 0) == pooled_only.predict(probe.context, 0));
  REQUIRE(model.predict(probe.context, 1) == pooled_only.predict(probe.context, 1));
  // And the pooled model is not either item's model: it sits between them.
  REQUIRE(model.predict(probe.context, 0) > 0.3);
  REQUIRE(model.predict(probe.context, 0) < 0.7);
}

TEST_CASE("a ridge model without data predicts zero", "[evaluation]") {
  RidgeRewardModel model({}, 2);
  model.fit();
  Rng rng(25);
  REQUIRE(model.predict(two_item_interaction(rng, 1, 2, 0, 0.0).context, 0) == 0.0);
}

TEST_CASE("predicting before fit is a logic error", "[evaluation]") {
  RidgeRewardModel model({}, 2);
  Rng rng(26);
  const Interaction i = two_item_interaction(rng, 1, 2, 0, 0.0);
  model.add(i);
  REQUIRE_THROWS_AS(model.predict(i.context, 0), std::logic_error);
}

TEST_CASE("a ridge model rejects invalid settings and mismatched interactions", "[evaluation]") {
  REQUIRE_THROWS_AS(RidgeRewardModel({.lambda = 0.0}, 2), std::invalid_argument);
  REQUIRE_THROWS_AS(RidgeRewardModel({.min_item_observations = 0}, 2), std::invalid_argument);
  REQUIRE_THROWS_AS(RidgeRewardModel({}, 0), std::invalid_argument);
  RidgeRewardModel model({}, 3);
  Rng rng(27);
  Interaction i = two_item_interaction(rng, 1, 2, 0, 0.0);  // feature_dim 2, not 3
  i.event_id = "evt-dim";
  REQUIRE_THROWS_WITH(model.add(i), Contains("evt-dim"));
}

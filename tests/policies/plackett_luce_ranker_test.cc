// SPDX-License-Identifier: Apache-2.0
#include "policies/plackett_luce_ranker.h"

#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>
#include <vector>

#include "core/config.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/sampling.h"
#include "policies/epsilon_greedy.h"
#include "tests/policies/policy_fixtures.h"
#include "tests/policies/ranker_fixtures.h"

using namespace recloop;
using recloop::testing::first_items_context;
using recloop::testing::weighted_policy;

TEST_CASE("plackett luce's first slot is the base policy's pmf", "[policies]") {
  // A trained epsilon greedy policy, so the pmf is not uniform.
  Rng rng(3);
  auto base = std::make_shared<EpsilonGreedy>(EpsilonGreedy::Config{.epsilon = 0.3}, 5);
  for (int t = 0; t < 200; ++t) {
    const Context context = testing::random_context(rng, 3, 2, 6, 10);
    const auto action = static_cast<ActionId>(uniform_index(rng, context.size()));
    base->update(testing::make_interaction(context, action,
                                           static_cast<double>(context.items[action] % 4)));
  }
  const PlackettLuceRanker ranker(base);
  const Context context = testing::random_context(rng, 3, 2, 8, 10);
  const auto pmf = base->probabilities(context);
  const Eigen::MatrixXd marginals = ranker.marginals(context, 3);
  for (std::size_t a = 0; a < context.size(); ++a) {
    REQUIRE(marginals(static_cast<Eigen::Index>(a), 0) == Approx(pmf[a]).epsilon(1e-14));
  }
  const Ranking ranking = ranker.rank(context, 3, "e", 1);
  REQUIRE(ranking.policy == "plackett_luce:epsilon_greedy");
  REQUIRE(ranking.model_version == 200);
}

TEST_CASE("plackett luce's marginals match the closed form for three candidates", "[policies]") {
  // P(a at slot 1) = sum_{b != a} p_b p_a / (1 - p_b); slot 2 takes the rest.
  const std::vector<double> p = {0.5, 0.3, 0.2};
  const PlackettLuceRanker ranker(weighted_policy(p));
  const Eigen::MatrixXd marginals = ranker.marginals(first_items_context(3), 3);
  for (std::size_t a = 0; a < 3; ++a) {
    double second = 0.0;
    for (std::size_t b = 0; b < 3; ++b) {
      if (b != a) second += p[b] * p[a] / (1.0 - p[b]);
    }
    const auto row = static_cast<Eigen::Index>(a);
    REQUIRE(marginals(row, 0) == Approx(p[a]).epsilon(1e-14));
    REQUIRE(marginals(row, 1) == Approx(second).epsilon(1e-14));
    REQUIRE(marginals(row, 2) == Approx(1.0 - p[a] - second).epsilon(1e-14));
  }
}

TEST_CASE("plackett luce's conditionals renormalise the pmf over the candidates not yet placed",
          "[policies]") {
  const std::vector<double> p = {0.4, 0.25, 0.15, 0.1, 0.06, 0.04};
  const PlackettLuceRanker ranker(weighted_policy(p));
  for (int i = 0; i < 30; ++i) {
    const Ranking ranking = ranker.rank(first_items_context(p.size()), 4,
                                        testing::event_id("pl-", i), 8);
    double placed = 0.0;
    for (std::size_t k = 0; k < 4; ++k) {
      REQUIRE(ranking.conditional[k] == Approx(p[ranking.actions[k]] / (1.0 - placed)));
      placed += p[ranking.actions[k]];
    }
  }
}

TEST_CASE("plackett luce fills the slots past a greedy policy's support uniformly",
          "[policies]") {
  // Only candidate 2 has mass: it takes slot 0, then the others follow in
  // uniformly random order (the limit of weights p + delta, delta -> 0).
  const PlackettLuceRanker ranker(weighted_policy({0.0, 0.0, 1.0, 0.0}));
  const Eigen::MatrixXd marginals = ranker.marginals(first_items_context(4), 3);
  REQUIRE(marginals(2, 0) == 1.0);
  REQUIRE(marginals.row(2).sum() == 1.0);
  for (Eigen::Index a : {0, 1, 3}) {
    REQUIRE(marginals(a, 0) == 0.0);
    REQUIRE(marginals(a, 1) == Approx(1.0 / 3));
    REQUIRE(marginals(a, 2) == Approx(1.0 / 3));
  }
  const Ranking ranking = ranker.rank(first_items_context(4), 3, "g", 2);
  REQUIRE(ranking.actions[0] == 2);
  REQUIRE(ranking.conditional[1] == Approx(1.0 / 3));
  REQUIRE(ranking.conditional[2] == Approx(1.0 / 2));
  REQUIRE(ranking.probability == Approx(1.0 / 6));
}

TEST_CASE("plackett luce over a masked context ranks by the pmf over the available candidates",
          "[policies]") {
  // Masking candidate 0 leaves weights (0.3, 0.2) / 0.5 for slot 0.
  Context context = first_items_context(3);
  context.available = {0, 1, 1};
  const PlackettLuceRanker ranker(weighted_policy({0.5, 0.3, 0.2}));
  const Eigen::MatrixXd marginals = ranker.marginals(context, 2);
  REQUIRE(marginals(0, 0) == 0.0);
  REQUIRE(marginals(0, 1) == 0.0);
  REQUIRE(marginals(1, 0) == Approx(0.6));
  REQUIRE(marginals(2, 0) == Approx(0.4));
  REQUIRE(marginals(1, 1) == Approx(0.4));
  REQUIRE(marginals(2, 1) == Approx(0.6));
}

TEST_CASE("plackett luce rejects a null base policy and any config key", "[policies]") {
  REQUIRE_THROWS_AS(PlackettLuceRanker(nullptr), std::invalid_argument);
  ConfigSection section("plackett_luce");
  section.set("temperature", "2");
  PlackettLuceRanker::Config::from(section);
  REQUIRE_THROWS_AS(section.reject_unknown(), ConfigError);
}

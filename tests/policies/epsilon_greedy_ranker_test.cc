// SPDX-License-Identifier: Apache-2.0
#include "policies/epsilon_greedy_ranker.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/sampling.h"
#include "tests/policies/policy_fixtures.h"
#include "tests/policies/ranker_fixtures.h"

using namespace recloop;
using Catch::Matchers::Contains;
using recloop::testing::first_items_context;
using recloop::testing::weighted_policy;

namespace {

// Scores the candidates by a fixed table, in candidate order.
Scorer fixed_scores(std::vector<double> scores) {
  return [scores = std::move(scores)](const Context&) { return scores; };
}

}  // namespace

TEST_CASE("the greedy candidate is at slot zero with probability 1 - epsilon + epsilon / K",
          "[policies]") {
  // Not 1 - epsilon: the exploration draw is uniform over all K candidates,
  // the greedy one included. Each other candidate gets epsilon / K.
  constexpr std::size_t K = 5;
  for (double epsilon : {0.05, 0.2, 0.5}) {
    const EpsilonGreedyRanker ranker(fixed_scores({0.1, 0.9, 0.3, 0.2, 0.4}), "fixed",
                                     {.epsilon = epsilon});
    const Eigen::MatrixXd marginals = ranker.marginals(first_items_context(K), 2);
    REQUIRE(marginals(1, 0) == Approx(1.0 - epsilon + epsilon / K).epsilon(1e-14));
    for (Eigen::Index a : {0, 2, 3, 4}) {
      REQUIRE(marginals(a, 0) == Approx(epsilon / K).epsilon(1e-14));
    }
  }
}

TEST_CASE("the second slot follows the per-slot epsilon greedy rule over the remaining",
          "[policies]") {
  // Scores b1 > b2 > the K - 2 others. With g = 1 - epsilon + epsilon / (K - 1)
  // the greedy mass at slot 1, where K - 1 candidates remain:
  //   P(b1 at 1) = P(b1 not at 0) g = (K - 1) (epsilon / K) g,
  //   P(b2 at 1) = P(b1 at 0) g + P(other at 0) epsilon / (K - 1),
  //   P(other j at 1) = (1 - P(j at 0)) epsilon / (K - 1), as j is never the
  //   best remaining at slot 1.
  constexpr double K = 6;
  const double epsilon = 0.3;
  const std::vector<double> scores = {0.5, 0.1, 0.9, 0.7, 0.3, 0.2};  // b1 = 2, b2 = 3
  const EpsilonGreedyRanker ranker(fixed_scores(scores), "fixed", {.epsilon = epsilon});
  const Eigen::MatrixXd marginals = ranker.marginals(first_items_context(6), 2);
  const double first = 1.0 - epsilon + epsilon / K;  // b1 at slot 0
  const double other = epsilon / K;                  // any other candidate at slot 0
  const double g = 1.0 - epsilon + epsilon / (K - 1);
  const double u = epsilon / (K - 1);
  REQUIRE(marginals(2, 1) == Approx((K - 1) * other * g).epsilon(1e-14));
  REQUIRE(marginals(3, 1) == Approx(first * g + (K - 2) * other * u).epsilon(1e-14));
  const double at_1 = (1.0 - other) * u;
  for (Eigen::Index j : {0, 1, 4, 5}) REQUIRE(marginals(j, 1) == Approx(at_1).epsilon(1e-14));
}

TEST_CASE("exact ties for the best remaining candidate split the greedy mass equally",
          "[policies]") {
  const EpsilonGreedyRanker ranker(fixed_scores({2.0, 2.0, 1.0}), "fixed", {.epsilon = 0.3});
  const Eigen::MatrixXd marginals = ranker.marginals(first_items_context(3), 2);
  REQUIRE(marginals(0, 0) == Approx(0.7 / 2 + 0.1));
  REQUIRE(marginals(1, 0) == Approx(0.7 / 2 + 0.1));
  REQUIRE(marginals(2, 0) == Approx(0.1));
  // A tie candidate at slot 0 leaves the other as the unique best remaining.
  int tie_first = 0;
  for (int i = 0; i < 20; ++i) {
    const Ranking ranking = ranker.rank(first_items_context(3), 2, testing::event_id("t", i), 1);
    if (ranking.actions[0] == 2) continue;
    ++tie_first;
    REQUIRE(ranking.conditional[0] == Approx(0.45));
    const bool other_tie = ranking.actions[1] == 1 - ranking.actions[0];
    REQUIRE(ranking.conditional[1] == Approx(other_tie ? 0.7 + 0.15 : 0.15));
  }
  REQUIRE(tie_first > 0);  // P(no tie member first in 20) = 0.1^20
}

TEST_CASE("epsilon zero ranks by score and epsilon one uniformly", "[policies]") {
  const std::vector<double> scores = {0.4, -1.0, 2.5, 0.0, 1.0};
  const EpsilonGreedyRanker greedy(fixed_scores(scores), "fixed", {.epsilon = 0.0});
  const Ranking ranking = greedy.rank(first_items_context(5), 5, "z", 3);
  REQUIRE(ranking.actions == std::vector<ActionId>{2, 4, 0, 3, 1});
  REQUIRE(ranking.probability == 1.0);
  const EpsilonGreedyRanker uniform(fixed_scores(scores), "fixed", {.epsilon = 1.0});
  const Eigen::MatrixXd marginals = uniform.marginals(first_items_context(5), 3);
  for (Eigen::Index a = 0; a < 5; ++a) {
    for (Eigen::Index k = 0; k < 3; ++k) REQUIRE(marginals(a, k) == Approx(0.2).epsilon(1e-14));
  }
}

TEST_CASE("a base policy's pmf orders the epsilon greedy ranking", "[policies]") {
  const EpsilonGreedyRanker ranker(weighted_policy({0.1, 0.6, 0.3}), {.epsilon = 0.0});
  const Ranking ranking = ranker.rank(first_items_context(3), 3, "b", 3);
  REQUIRE(ranking.actions == std::vector<ActionId>{1, 2, 0});
  REQUIRE(ranking.policy == "epsilon_greedy:weighted");
}

TEST_CASE("the epsilon greedy ranker rejects a bad epsilon with its name and range",
          "[policies]") {
  for (double epsilon : {-0.1, 1.5}) {
    REQUIRE_THROWS_WITH(EpsilonGreedyRanker(fixed_scores({1.0}), "s", {.epsilon = epsilon}),
                        Contains("epsilon") && Contains("[0, 1]"));
  }
  ConfigSection section("epsilon_greedy", "test.ini");
  section.set("epsilon", "1.2");
  REQUIRE_THROWS_WITH(EpsilonGreedyRanker::Config::from(section),
                      Contains("epsilon") && Contains("1.2"));
  REQUIRE_THROWS_AS(EpsilonGreedyRanker(std::shared_ptr<const Policy>(), {}),
                    std::invalid_argument);
  REQUIRE_THROWS_AS(EpsilonGreedyRanker(Scorer(), "s", {}), std::invalid_argument);
}

TEST_CASE("a scorer with the wrong number of scores or a non-finite one is rejected",
          "[policies]") {
  const Context context = first_items_context(3);
  const EpsilonGreedyRanker short_scores(fixed_scores({1.0, 2.0}), "s", {});
  REQUIRE_THROWS_AS(short_scores.rank(context, 1, "x", 1), std::invalid_argument);
  const EpsilonGreedyRanker nan_scores(fixed_scores({1.0, std::nan(""), 0.0}), "s", {});
  REQUIRE_THROWS_AS(nan_scores.marginals(context, 1), std::invalid_argument);
  // A non-finite score of an unavailable candidate is never read.
  Context masked = context;
  masked.available = {1, 0, 1};
  REQUIRE_NOTHROW(nan_scores.rank(masked, 2, "x", 1));
  masked.available = {1, 0};
  REQUIRE_THROWS_AS(nan_scores.marginals(masked, 1), std::invalid_argument);
  REQUIRE_THROWS_AS(nan_scores.rank(masked, 1, "x", 1), std::invalid_argument);
}

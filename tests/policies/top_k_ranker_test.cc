// SPDX-License-Identifier: Apache-2.0
#include "policies/top_k_ranker.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <vector>

#include "core/rng.h"
#include "core/sampling.h"
#include "policies/epsilon_greedy_ranker.h"
#include "policies/uniform_random.h"
#include "tests/policies/policy_fixtures.h"
#include "tests/policies/ranker_fixtures.h"

using namespace recloop;
using recloop::testing::first_items_context;
using recloop::testing::weighted_policy;

namespace {

Scorer fixed_scores(std::vector<double> scores) {
  return [scores = std::move(scores)](const Context&) { return scores; };
}

}  // namespace

TEST_CASE("top k without ties is deterministic", "[policies]") {
  const TopKRanker ranker(fixed_scores({0.3, 1.5, -2.0, 0.9, 0.1}), "fixed");
  const Context context = first_items_context(5);
  const Eigen::MatrixXd marginals = ranker.marginals(context, 3);
  Eigen::MatrixXd expected = Eigen::MatrixXd::Zero(5, 3);
  expected(1, 0) = expected(3, 1) = expected(0, 2) = 1.0;
  REQUIRE(marginals == expected);
  for (int i = 0; i < 10; ++i) {
    const Ranking ranking = ranker.rank(context, 3, testing::event_id("d", i), 4);
    REQUIRE(ranking.actions == std::vector<ActionId>{1, 3, 0});
    REQUIRE(ranking.conditional == std::vector<double>{1.0, 1.0, 1.0});
    REQUIRE(ranking.marginal == std::vector<double>{1.0, 1.0, 1.0});
    REQUIRE(ranking.probability == 1.0);
  }
}

TEST_CASE("top k shows exactly tied candidates in uniformly random order", "[policies]") {
  // Candidates 0 and 2 tie for the top: each is at slot 0 and at slot 1 with
  // probability 1/2, and candidate 3 is at slot 2 for sure.
  const TopKRanker ranker(fixed_scores({3.0, 1.0, 3.0, 2.0}), "fixed");
  const Context context = first_items_context(4);
  const Eigen::MatrixXd marginals = ranker.marginals(context, 3);
  Eigen::MatrixXd expected = Eigen::MatrixXd::Zero(4, 3);
  expected(0, 0) = expected(2, 0) = expected(0, 1) = expected(2, 1) = 0.5;
  expected(3, 2) = 1.0;
  REQUIRE(marginals == expected);
  bool seen[2] = {false, false};
  for (int i = 0; i < 40; ++i) {
    const Ranking ranking = ranker.rank(context, 3, testing::event_id("tie", i), 4);
    REQUIRE(ranking.conditional == std::vector<double>{0.5, 1.0, 1.0});
    REQUIRE(ranking.probability == 0.5);
    REQUIRE(ranking.actions[2] == 3);
    seen[ranking.actions[0] == 2] = true;
  }
  REQUIRE(seen[0]);  // both orders occur: P(not) = 2 * 2^-40
  REQUIRE(seen[1]);
}

TEST_CASE("top k's closed-form marginals equal the epsilon greedy ranker's at epsilon zero",
          "[policies]") {
  Rng rng(17);
  for (int trial = 0; trial < 30; ++trial) {
    std::vector<double> scores(8);
    for (double& s : scores) s = std::floor(4.0 * uniform01(rng));  // many ties
    Context context = first_items_context(8);
    context.available.assign(8, 1);
    context.available[uniform_index(rng, 8)] = 0;
    const std::size_t slots = 1 + uniform_index(rng, 5);
    const TopKRanker top_k(fixed_scores(scores), "fixed");
    const EpsilonGreedyRanker greedy(fixed_scores(scores), "fixed", {.epsilon = 0.0});
    const Eigen::MatrixXd closed_form = top_k.marginals(context, slots);
    const Eigen::MatrixXd enumerated = greedy.marginals(context, slots);
    REQUIRE(closed_form.isApprox(enumerated, 1e-12));
  }
}

TEST_CASE("top k over a large all-tied catalogue has exact uniform marginals", "[policies]") {
  // A fresh uniform policy ties all 1000 candidates: far too many prefixes to
  // enumerate, but the closed form is exact.
  const TopKRanker ranker(std::make_shared<UniformRandom>());
  const Eigen::MatrixXd marginals = ranker.marginals(first_items_context(1000), 5);
  REQUIRE(marginals.minCoeff() == 1.0 / 1000);
  REQUIRE(marginals.maxCoeff() == 1.0 / 1000);
  const Ranking ranking = ranker.rank(first_items_context(1000), 5, "u", 1);
  REQUIRE(ranking.probability == Approx(1.0 / (1000.0 * 999 * 998 * 997 * 996)));
  REQUIRE(ranking.policy == "top_k:uniform");
}

TEST_CASE("top k rejects a null base policy or an empty scorer", "[policies]") {
  REQUIRE_THROWS_AS(TopKRanker(std::shared_ptr<const Policy>()), std::invalid_argument);
  REQUIRE_THROWS_AS(TopKRanker(Scorer(), "s"), std::invalid_argument);
  const TopKRanker ranker(weighted_policy({1.0, 2.0}));
  REQUIRE(ranker.rank(first_items_context(2), 2, "w", 1).actions == std::vector<ActionId>{1, 0});
}

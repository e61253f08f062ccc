// SPDX-License-Identifier: Apache-2.0
// The biased logging policies against the population world's contexts.
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "policies/popularity_policy.h"
#include "policies/production_ranker.h"
#include "simulator/population_world.h"

using namespace recloop;

TEST_CASE("the popularity policy's pmf is popularity^beta normalised over the candidates",
          "[simulator]") {
  PopulationWorld::Config config;
  config.zipf_exponent = 1.1;
  config.item_lifetime = 30;  // new items keep their slot's popularity
  const PopulationWorld world(config);
  PopulationWorld::Worker worker(world);
  PopulationWorld::Request request;
  for (const double beta : {0.0, 0.5, 1.0, 3.0}) {
    const PopularityPolicy policy({.beta = beta,
                                   .popularity_row = PopulationWorld::kLogPopularityRow});
    for (std::uint64_t t = 0; t < 50; ++t) {
      worker.draw(t * 13, request);
      const auto pmf = policy.probabilities(request.context);
      double total = 0.0;
      for (const auto slot : request.slots) total += std::pow(world.popularity(slot), beta);
      for (std::size_t a = 0; a < pmf.size(); ++a) {
        REQUIRE(pmf[a] == Approx(std::pow(world.popularity(request.slots[a]), beta) / total)
                              .epsilon(1e-12));
      }
    }
  }
}

TEST_CASE("the production ranker ranks by its misspecified score, with exact marginals",
          "[simulator]") {
  const PopulationWorld world({});
  PopulationWorld::Worker worker(world);
  PopulationWorld::Request request;
  const ProductionScoreConfig score{.popularity_weight = 0.5, .affinity_weight = 1.0};
  const auto scorer = production_scorer(score);
  const auto greedy = make_production_ranker(score, 0.0);
  const auto noisy = make_production_ranker(score, 0.1);
  for (std::uint64_t t = 0; t < 20; ++t) {
    worker.draw(t, request);
    const Context& context = request.context;
    const auto scores = scorer(context);
    // The score by hand: 0.5 log p + y . (observed item vector).
    for (std::size_t a = 0; a < context.size(); ++a) {
      const auto col = static_cast<Eigen::Index>(a);
      const double by_hand = 0.5 * context.actions(0, col) +
                             context.user.dot(context.actions.col(col).segment(1, context.user.size()));
      REQUIRE(scores[a] == Approx(by_hand).epsilon(1e-12));
    }
    const auto ranking = greedy->rank(context, 3, "e", 1);
    for (std::size_t k = 0; k + 1 < 3; ++k) {
      REQUIRE(scores[ranking.actions[k]] >= scores[ranking.actions[k + 1]]);
    }
    const Eigen::MatrixXd marginals = noisy->marginals(context, 3);
    for (Eigen::Index k = 0; k < 3; ++k) REQUIRE(marginals.col(k).sum() == Approx(1.0));
  }
}

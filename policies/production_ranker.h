// SPDX-License-Identifier: Apache-2.0
// A production-like logging ranker: a fixed linear score that is
// deliberately misspecified, served as an epsilon-greedy top-K ranking
// (epsilon_greedy_ranker.h), so it is nearly deterministic yet every ranking
// has an exact, known probability. The score of candidate a is
//   s_a = popularity_weight * actions(popularity_row, a)
//       + affinity_weight * sum_{j < affinity_dims} user[j] * actions(first_item_row + j, a),
// a popularity prior plus a dot product of the user features with the
// observed item vector. Against a PopulationWorld (population_world.h:
// popularity_row 0 = log popularity, first_item_row 1 = observed item vector)
// it is misspecified three ways: it sees the users' noisy view y instead of
// z, it has no item bias or category term, and its popularity weight is not
// the world's. A slate of one is epsilon-greedy over the scores.
#pragma once

#include <cstdint>
#include <memory>

#include "policies/epsilon_greedy_ranker.h"
#include "policies/ranker.h"

namespace recloop {

struct ProductionScoreConfig {
  double popularity_weight = 1.0;   // weight of the log-popularity row, finite
  double affinity_weight = 1.0;     // weight of user . item, finite
  std::int64_t popularity_row = 0;  // item-feature row of log(popularity), >= 0
  std::int64_t first_item_row = 1;  // first item-feature row of the item vector, >= 0
  // User dims in the dot product; -1 = all of them. For a population world
  // whose user_obs_dim exceeds latent_dim, set it to latent_dim (the dot
  // product would otherwise run into the category rows).
  std::int64_t affinity_dims = -1;
};

// The score above as a Scorer. The scorer throws std::invalid_argument if a
// context lacks the rows it reads. Throws std::invalid_argument for
// non-finite weights or negative rows.
Scorer production_scorer(const ProductionScoreConfig& config);

// EpsilonGreedyRanker over production_scorer(config), named "production";
// epsilon in [0, 1] per slot (a little randomisation: e.g. 0.05).
std::unique_ptr<EpsilonGreedyRanker> make_production_ranker(const ProductionScoreConfig& config,
                                                            double epsilon);

}  // namespace recloop

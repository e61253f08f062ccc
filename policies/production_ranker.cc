// SPDX-License-Identifier: Apache-2.0
#include "policies/production_ranker.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace recloop {

Scorer production_scorer(const ProductionScoreConfig& config) {
  if (!std::isfinite(config.popularity_weight) || !std::isfinite(config.affinity_weight) ||
      config.popularity_row < 0 || config.first_item_row < 0 || config.affinity_dims < -1) {
    throw std::invalid_argument("production_scorer: non-finite weight or negative row");
  }
  return [config](const Context& context) {
    const auto dims = config.affinity_dims < 0
                          ? context.user.size()
                          : std::min<Eigen::Index>(config.affinity_dims, context.user.size());
    const auto rows = context.actions.rows();
    if (config.popularity_row >= rows || config.first_item_row + dims > rows) {
      throw std::invalid_argument("production_scorer: the items have " + std::to_string(rows) +
                                  " feature rows; the score reads row " +
                                  std::to_string(config.popularity_row) + " and rows " +
                                  std::to_string(config.first_item_row) + " .. " +
                                  std::to_string(config.first_item_row + dims - 1));
    }
    std::vector<double> scores(context.size());
    for (std::size_t a = 0; a < context.size(); ++a) {
      const auto col = static_cast<Eigen::Index>(a);
      const double affinity =
          context.user.head(dims).dot(context.actions.col(col).segment(config.first_item_row, dims));
      scores[a] = config.popularity_weight * context.actions(config.popularity_row, col) +
                  config.affinity_weight * affinity;
    }
    return scores;
  };
}

std::unique_ptr<EpsilonGreedyRanker> make_production_ranker(const ProductionScoreConfig& config,
                                                            double epsilon) {
  return std::make_unique<EpsilonGreedyRanker>(production_scorer(config), "production",
                                               EpsilonGreedyRanker::Config{.epsilon = epsilon});
}

}  // namespace recloop

// SPDX-License-Identifier: Apache-2.0
// A reward model for DM and DR fit by ridge regression on
// joint_features(context, action) plus an intercept: one disjoint model per
// item (catalogue id, context.items[action]), and one pooled model over every
// interaction that predicts for items with too few observations of their own
// and for items never seen.
//
// Use: add() every training interaction, fit() once, then predict(). add()
// after fit() accumulates further data but predictions keep using the last
// fit() until it is called again. Not thread-safe; predict() is const and may
// be called concurrently once fitting is done.
#pragma once

#include <cstddef>
#include <unordered_map>

#include <Eigen/Dense>

#include "core/types.h"
#include "evaluation/estimator.h"

namespace recloop {

class RidgeRewardModel final : public RewardModel {
 public:
  struct Config {
    double lambda = 1.0;  // ridge penalty on every weight except the intercept, > 0
    // Items with fewer training interactions than this are predicted by the
    // pooled model, >= 1.
    std::size_t min_item_observations = 10;
  };

  // feature_dim is the Context::feature_dim() of every context the model will
  // see, >= 1. Throws std::invalid_argument for an out-of-range argument.
  RidgeRewardModel(const Config& config, int feature_dim);

  // Accumulates X'X and X'y of the interaction's item model and of the pooled
  // model. Throws std::invalid_argument naming the event if the action is not
  // a candidate, the feature dimension differs or the reward is not finite.
  void add(const Interaction& interaction);

  // Solves every accumulated normal equation. With no data at all, every
  // prediction is 0.
  void fit();

  // r̂(x, a) from the item's own model if it had enough observations at the
  // last fit(), else from the pooled model. Throws std::logic_error before the
  // first fit() or for a context of another feature dimension.
  double predict(const Context& context, ActionId action) const override;

  // Training interactions seen for `item` so far (0 if never seen).
  std::size_t observations(ItemId item) const;
  // Whether predictions for `item` use its own model (as of the last fit()).
  bool has_item_model(ItemId item) const;

 private:
  // One ridge regression: the sufficient statistics and the last solution.
  struct Ridge {
    Eigen::MatrixXd xtx;    // Σ x x' over the rows added
    Eigen::VectorXd xty;    // Σ x y
    Eigen::VectorXd theta;  // last solution; empty if not fitted
    std::size_t count = 0;
  };

  Ridge make_ridge() const;
  void solve(Ridge& ridge) const;
  double predict_with(const Eigen::VectorXd& theta, const Context& context,
                      ActionId action) const;

  Config config_;
  int feature_dim_;
  bool fitted_ = false;
  Eigen::VectorXd x_;  // scratch row for add(): joint features, then the intercept's 1
  Ridge pooled_;
  std::unordered_map<ItemId, Ridge> items_;
};

}  // namespace recloop

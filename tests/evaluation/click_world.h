// SPDX-License-Identifier: Apache-2.0
// A small seeded world with known truth for the estimator tests, plus logging
// and target policies with exact pmfs.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/rng.h"
#include "core/types.h"
#include "evaluation/estimator.h"

namespace recloop::testing {

// Each request offers kCandidates distinct items drawn uniformly from a
// catalogue of kCatalogue (catalogue ids kFirstItem, kFirstItem + 1, ...), in
// random order. The user is u ∈ [0, 1]^kUserDim with independent uniform
// coordinates; every item has kItemDim fixed features. A click (reward 1, else
// 0) has probability
//   q(x, a) = base[item] + slope[item] · u,   within [0.05, 0.85] for every u,
// which is linear in [u; item features; 1] item by item: a per-item ridge
// model is well specified, a pooled one is not.
class ClickWorld {
 public:
  static constexpr int kCatalogue = 6;
  static constexpr int kCandidates = 4;
  static constexpr int kUserDim = 3;
  static constexpr int kItemDim = 2;
  static constexpr ItemId kFirstItem = 100;

  Context next_context(Rng& rng) const;
  double expected_reward(const Context& context, ActionId action) const;
  // expected_reward of every candidate, in candidate order.
  std::vector<double> truth(const Context& context) const;
  int feature_dim() const { return kUserDim + kItemDim; }
};

// A policy as the tests need one: context -> pmf over its candidates.
using PmfFunction = std::function<std::vector<double>(const Context&)>;

std::vector<double> uniform_pmf(const Context& context);
// pmf ∝ exp(beta · q(x, a)): beta > 0 favours valuable items, beta < 0 the
// least valuable ones.
PmfFunction softmax_on_truth(const ClickWorld& world, double beta);
// All mass on the most valuable candidate (ties share it).
PmfFunction greedy_on_truth(const ClickWorld& world);

// n requests: a context, an action drawn from logging(context) with its exact
// probability, a Bernoulli(q) reward and the truth vector. Event ids are
// "e<index>". The same seed gives the same log.
std::vector<Interaction> draw_log(const ClickWorld& world, const PmfFunction& logging, int n,
                                  std::uint64_t seed);

// A hand-made interaction for arithmetic checks: `candidates` items with
// all-zero features, `action` logged with `probability`, reward `reward`.
Interaction hand_interaction(double probability, double reward, std::size_t candidates = 2,
                             ActionId action = 0, const EventId& event_id = "hand");

// The exact E[r | x, a] of the world, as a reward model.
class TruthRewardModel final : public RewardModel {
 public:
  explicit TruthRewardModel(const ClickWorld& world) : world_(world) {}
  double predict(const Context& context, ActionId action) const override {
    return world_.expected_reward(context, action);
  }

 private:
  ClickWorld world_;
};

// A reward model that predicts the same value everywhere.
class ConstantRewardModel final : public RewardModel {
 public:
  explicit ConstantRewardModel(double value) : value_(value) {}
  double predict(const Context&, ActionId) const override { return value_; }

 private:
  double value_;
};

}  // namespace recloop::testing

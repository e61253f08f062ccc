// SPDX-License-Identifier: Apache-2.0
// SquareCB (Foster & Rakhlin 2020, "Beyond UCB: optimal and efficient
// contextual bandits with regression oracles", ICML, Alg. 1): exploration by
// inverse gap weighting over a regression oracle, here disjoint per-item
// ridge regressions on x = joint_features(context, a) (ridge.h).
//
// The paper minimises losses; recloop maximises rewards. With predicted
// rewards y_a (the ridge means), best = argmax_a y_a and K candidates,
//   P(a)    = 1 / (K + gamma (y_best - y_a))   for a != best,
//   P(best) = 1 - sum_{a != best} P(a).
// This is Alg. 1 applied to the losses l_a = -y_a: only the gaps
// l_a - l_best = y_best - y_a enter, so negating the predictions is exact and
// needs no reward range. (The paper's analysis assumes losses in [0, 1];
// gamma is in units of 1 / reward.) mu = K as in its Theorem 1. Every
// candidate gets at least 1 / (K + gamma * gap) > 0 and the best at least 1/K.
// Exact ties for the best share the remainder equally, which equals breaking
// the tie uniformly at random and averaging the resulting pmfs.
//
// Learning rate: Theorem 1 sets gamma of order sqrt(K T / Reg_Sq(T)) for a known
// horizon T. recloop uses the anytime schedule
//   gamma_t = gamma_scale * sqrt(K * t),   t = model_version(),
// i.e. gamma grows as sqrt(t) with the constant 1 / sqrt(Reg_Sq) folded into
// gamma_scale (as VW's --squarecb does with its gamma_scale and
// gamma_exponent = 1/2). At t = 0 the pmf is uniform; gamma_scale = 0 is
// uniform forever. The default gamma_scale = 3 is close to VW's default
// gamma_t = 10 sqrt(t) at K = 10, and on the linear test world of
// tests/policies (rewards of order 1, T = 20,000) it gave less than half the
// regret of gamma_scale = 1 and about 1.5 times that of gamma_scale = 10,
// whose regret growth varied more between seeds. gamma is in units of
// 1 / reward: for rewards with small gaps (click rates of a few percent)
// scale it up accordingly.
//
// update() regresses interaction.reward on the chosen candidate's features
// and ignores interaction.probability (no importance weighting; SquareCB's
// oracle is fitted on the observed rewards, as in the last step of Alg. 1); learn()
// (RegressionLearner) takes per-candidate IPS or DR targets instead.
//
// Cost: probabilities() O(K d), update() O(d^2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/types.h"
#include "policies/policy.h"
#include "policies/regression_learner.h"
#include "policies/ridge.h"

namespace recloop {

class ModelReader;

// The inverse-gap-weighting pmf over predicted rewards (Foster & Rakhlin
// 2020, Alg. 1, with rewards in place of losses, as above). gamma = 0 gives
// uniform. Throws std::invalid_argument if `predicted_rewards` is empty,
// holds a non-finite value, or gamma is not finite and >= 0.
std::vector<double> inverse_gap_pmf(std::span<const double> predicted_rewards, double gamma);

class SquareCb final : public Policy, public RegressionLearner {
 public:
  struct Config {
    double gamma_scale = 3.0;  // gamma_t = gamma_scale sqrt(K t), finite and >= 0
    double ridge = 1.0;        // prior precision of each item's ridge regression, > 0
    bool operator==(const Config&) const = default;
    // Reads `gamma_scale` and `ridge` (absent keys keep the defaults above).
    // Throws ConfigError naming the key, its value and range on bad input.
    static Config from(ConfigSection& section);
  };
  static constexpr std::string_view kName = "square_cb";

  // Throws std::invalid_argument, with the value, unless gamma_scale >= 0,
  // ridge > 0 (both finite) and feature_dim >= 1.
  SquareCb(const Config& config, int feature_dim);

  // Requires context.feature_dim() == feature_dim() (checked).
  std::vector<double> probabilities(const Context& context) const override;
  void update(const Interaction& interaction) override;
  std::string_view name() const override { return kName; }
  std::uint64_t model_version() const override { return version_; }
  std::unique_ptr<Policy> clone() const override;
  // Writes the config, the model version and the ridge state.
  void save(ModelWriter& out) const override;
  // Reads what save() wrote; throws recloop::Error on truncated or invalid data.
  static std::unique_ptr<Policy> load(ModelReader& in);

  // RegressionLearner: the ridge means x'theta; learn() is one ridge step on
  // every candidate's item (one model version).
  void predict_rewards(const Context& context, std::span<double> out) const override;
  void learn(const Context& context, std::span<const double> targets) override;

  // gamma_t for a request with `n_candidates` candidates at the current version.
  double gamma(std::size_t n_candidates) const;

  const Config& config() const { return config_; }
  int feature_dim() const { return model_.dim(); }
  // Items with learnt state; items never updated hold none.
  std::size_t arm_count() const { return model_.arm_count(); }
  const DisjointRidge& model() const { return model_; }

 private:
  Config config_;
  DisjointRidge model_;
  std::uint64_t version_ = 0;
};

}  // namespace recloop

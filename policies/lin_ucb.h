// SPDX-License-Identifier: Apache-2.0
// LinUCB with disjoint linear models (Li, Chu, Langford & Schapire 2010, "A
// contextual-bandit approach to personalized news article recommendation",
// Alg. 1). Each catalogue item a keeps its own ridge regression on
// x = joint_features(context, a) (see ridge.h), and the policy plays the
// candidate with the highest upper confidence bound
//   x' theta_a + alpha * sqrt(x' A_a^-1 x),
// splitting the mass equally between exact ties. The pmf is otherwise a point
// mass: exploration comes from the confidence bonus, not from randomisation.
//
// update() regresses interaction.reward on the features of the chosen
// candidate, context.items[action], and ignores interaction.probability: the
// learner is on-policy style, with no importance weighting. Learning from
// another policy's log therefore fits that policy's choices unweighted; to
// correct for the logging policy, train through OffPolicyTrainer, which
// teaches every candidate an IPS or DR reward target via learn().
//
// The widths are computed from single-precision copies of the A_a^-1 (ridge.h),
// which halves the bytes a decision reads; x'A^-1x then carries a relative
// error of at most ~2^-24 x'|A^-1|x / x'A^-1x (quadratic_form.h), far below
// any meaningful difference between confidence bounds. The copies are derived
// from the saved double state, so a reloaded policy decides bit-identically.
//
// Cost: choose() is O(K d^2) (the quadratic form per candidate), update() O(d^2).
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

class LinUcb final : public Policy, public RegressionLearner {
 public:
  struct Config {
    double alpha = 1.0;  // width of the confidence bonus, >= 0 (alpha of Li et al. 2010, Alg. 1)
    double ridge = 1.0;  // prior precision of each item's ridge regression, > 0
    bool operator==(const Config&) const = default;
    // Reads `alpha` and `ridge` (absent keys keep the defaults above).
    // Throws ConfigError naming the key, its value and range on bad input.
    static Config from(ConfigSection& section);
  };
  static constexpr std::string_view kName = "lin_ucb";

  // Throws std::invalid_argument, with the value, unless alpha >= 0,
  // ridge > 0 (both finite) and feature_dim >= 1.
  LinUcb(const Config& config, int feature_dim);

  // Requires context.feature_dim() == feature_dim() (checked).
  std::vector<double> probabilities(const Context& context) const override;
  void update(const Interaction& interaction) override;
  std::string_view name() const override { return kName; }
  std::uint64_t model_version() const override { return version_; }
  std::unique_ptr<Policy> clone() const override;
  // Writes the config, the model version and the ridge state.
  void save(ModelWriter& out) const override;
  // Reads what save() wrote. Throws recloop::Error on truncated or inconsistent data.
  static std::unique_ptr<Policy> load(ModelReader& in);

  // RegressionLearner: the ridge means x'theta (without the bonus); learn()
  // is one ridge step on every candidate's item (A_a += x x', b_a += y x, as in
  // Alg. 1 lines 12-13), counted as one model version.
  void predict_rewards(const Context& context, std::span<double> out) const override;
  void learn(const Context& context, std::span<const double> targets) override;

  // The upper confidence bound of every candidate, in candidate order.
  std::vector<double> scores(const Context& context) const;

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

// SPDX-License-Identifier: Apache-2.0
// Softmax (Boltzmann) exploration over disjoint per-item ridge regressions:
// each catalogue item has its own linear model of the reward on
// x = joint_features(context, a) (ridge.h), and candidate a is played with
// probability
//   P(a) = exp(x_a' theta_a / temperature) / sum_b exp(x_b' theta_b / temperature),
// the soft-max distribution of Sutton & Barto 2018 ("Reinforcement Learning:
// An Introduction", 2nd ed., sec. 2.8, eq. 2.11) with the ridge predictions as
// preferences over temperature, as in the softmax explorer of VW's
// --cb_explore_adf. A large temperature tends to uniform, a small one to
// greedy on the ridge means (ties share the mass equally in the limit).
//
// update() regresses interaction.reward on the features of the chosen
// candidate, context.items[action], and ignores interaction.probability (no
// importance weighting); to correct for another logging policy, train through
// learn() (RegressionLearner) with IPS or DR targets.
//
// Cost: probabilities() O(K d) plus K exponentials, update() O(d^2).
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

class LinearSoftmax final : public Policy, public RegressionLearner {
 public:
  struct Config {
    double temperature = 0.1;  // in reward units, finite and > 0
    double ridge = 1.0;        // prior precision of each item's ridge regression, > 0
    bool operator==(const Config&) const = default;
    // Reads `temperature` and `ridge` (absent keys keep the defaults above).
    // Throws ConfigError naming the key, its value and range on bad input.
    static Config from(ConfigSection& section);
  };
  static constexpr std::string_view kName = "softmax_linear";

  // Throws std::invalid_argument, with the value, unless temperature and
  // ridge are finite and > 0 and feature_dim >= 1.
  LinearSoftmax(const Config& config, int feature_dim);

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

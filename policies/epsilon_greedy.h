// SPDX-License-Identifier: Apache-2.0
// Epsilon-greedy over disjoint per-item ridge regressions: each catalogue item
// has its own linear model of the reward on joint_features(context, a)
// (see ridge.h). With probability 1 - epsilon the policy plays the candidate
// with the highest predicted mean (ties share that mass equally), and with
// probability epsilon a candidate drawn uniformly (Sutton & Barto 2018, sec. 2.2).
//
// update() regresses interaction.reward on the features of the chosen
// candidate, context.items[action], and ignores interaction.probability: the
// learner is on-policy style, with no importance weighting. Learning from
// another policy's log therefore fits that policy's choices unweighted; to
// correct for the logging policy, train through OffPolicyTrainer, which
// teaches every candidate an IPS or DR reward target via learn().
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

class EpsilonGreedy final : public Policy, public RegressionLearner {
 public:
  struct Config {
    double epsilon = 0.1;  // probability of exploring uniformly, [0, 1]
    double ridge = 1.0;    // prior precision of each item's ridge regression, > 0
    bool operator==(const Config&) const = default;
    // Reads `epsilon` and `ridge` (absent keys keep the defaults above).
    // Throws ConfigError naming the key, its value and range on bad input.
    static Config from(ConfigSection& section);
  };
  static constexpr std::string_view kName = "epsilon_greedy";

  // Throws std::invalid_argument, with the value, unless epsilon is in
  // [0, 1], ridge > 0 and feature_dim >= 1.
  EpsilonGreedy(const Config& config, int feature_dim);

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

  // RegressionLearner: the ridge means x'theta; learn() is one ridge step on
  // every candidate's item (K steps of update()'s cost, one model version).
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

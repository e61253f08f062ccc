// SPDX-License-Identifier: Apache-2.0
// Non-contextual epsilon-greedy (Sutton & Barto 2018, "Reinforcement
// Learning: An Introduction", 2nd ed., sec. 2.2-2.4): each catalogue item's
// value is the sample mean of the rewards it received (sec. 2.4's incremental
// average, kept as a count and a sum). With probability 1 - epsilon the
// policy plays the candidate with the highest mean (exact ties share that mass
// equally), and with probability epsilon a candidate drawn uniformly.
//
// An item never updated is valued at `initial_value` (sec. 2.6: a high value
// makes the policy try every new item once before trusting the means).
// Features are never read: any context is accepted, of any feature dimension.
// Per-item state is allocated on an item's first update only (item_means.h).
//
// update() adds interaction.reward to the mean of context.items[action] and
// ignores interaction.probability (no importance weighting); to correct for
// another logging policy, train through learn() (RegressionLearner) with IPS
// or DR targets.
//
// Cost: probabilities() O(K) hash look-ups, update() O(1).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/types.h"
#include "policies/item_means.h"
#include "policies/policy.h"
#include "policies/regression_learner.h"

namespace recloop {

class ModelReader;

class MultiArmedEpsilonGreedy final : public Policy, public RegressionLearner {
 public:
  struct Config {
    double epsilon = 0.1;        // probability of exploring uniformly, [0, 1]
    double initial_value = 0.0;  // value of an item never updated, finite
    bool operator==(const Config&) const = default;
    // Reads `epsilon` and `initial_value` (absent keys keep the defaults).
    // Throws ConfigError naming the key, its value and range on bad input.
    static Config from(ConfigSection& section);
  };
  static constexpr std::string_view kName = "epsilon_greedy_mab";

  // Throws std::invalid_argument, with the value, unless epsilon is in [0, 1]
  // and initial_value is finite.
  explicit MultiArmedEpsilonGreedy(const Config& config);

  std::vector<double> probabilities(const Context& context) const override;
  void update(const Interaction& interaction) override;
  std::string_view name() const override { return kName; }
  std::uint64_t model_version() const override { return version_; }
  std::unique_ptr<Policy> clone() const override;
  // Writes the config, the model version and the per-item counts and sums.
  void save(ModelWriter& out) const override;
  // Reads what save() wrote; throws recloop::Error on truncated or invalid data.
  static std::unique_ptr<Policy> load(ModelReader& in);

  // RegressionLearner: predict_rewards() is values(); learn() adds targets[a]
  // to the statistics of every candidate's item (so an item's mean becomes the
  // average of its targets, e.g. of its IPS or DR reward estimates), as one
  // model version.
  void predict_rewards(const Context& context, std::span<double> out) const override;
  void learn(const Context& context, std::span<const double> targets) override;

  // Each candidate's value: its sample mean, or initial_value if never updated.
  std::vector<double> values(const Context& context) const;

  const Config& config() const { return config_; }
  const ItemMeans& means() const { return means_; }

 private:
  Config config_;
  ItemMeans means_;
  std::uint64_t version_ = 0;
};

}  // namespace recloop

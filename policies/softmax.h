// SPDX-License-Identifier: Apache-2.0
// Non-contextual softmax (Boltzmann) exploration. Each catalogue item's value
// is the sample mean of its rewards, Q(a) (Sutton & Barto 2018, "Reinforcement
// Learning: An Introduction", 2nd ed., eq. 2.1), and candidate a is played
// with probability
//   P(a) = exp(Q(a) / temperature) / sum_b exp(Q(b) / temperature),
// the soft-max distribution of sec. 2.8 (eq. 2.11) over the value estimates;
// this is the Boltzmann action selection of the first edition (1998, sec. 2.3).
// A large temperature tends to uniform, a small one to greedy (ties share the
// mass equally in the limit). An item never updated is valued at
// `initial_value`. Features are never read: any context is accepted.
// Per-item state is allocated on an item's first update only (item_means.h).
//
// update() adds interaction.reward to the mean of context.items[action] and
// ignores interaction.probability (no importance weighting); to correct for
// another logging policy, train through learn() (RegressionLearner) with IPS
// or DR targets.
//
// Cost: probabilities() O(K) hash look-ups and exponentials, update() O(1).
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

// P(a) proportional to exp(scores[a] / temperature), computed as
// exp((scores[a] - max) / temperature) / sum (the log-sum-exp shift), so no
// exponential overflows and the largest score always has weight exactly 1:
// the result is a valid pmf for any finite scores and any temperature > 0,
// exactly uniform over exact ties of the maximum once the others underflow.
// Throws std::invalid_argument if `scores` is empty, holds a non-finite value,
// or temperature is not finite and > 0.
std::vector<double> softmax_pmf(std::span<const double> scores, double temperature);

class Softmax final : public Policy, public RegressionLearner {
 public:
  struct Config {
    double temperature = 0.1;    // in reward units, finite and > 0
    double initial_value = 0.0;  // value of an item never updated, finite
    bool operator==(const Config&) const = default;
    // Reads `temperature` and `initial_value` (absent keys keep the defaults).
    // Throws ConfigError naming the key, its value and range on bad input.
    static Config from(ConfigSection& section);
  };
  static constexpr std::string_view kName = "softmax";

  // Throws std::invalid_argument, with the value, unless temperature is
  // finite and > 0 and initial_value is finite.
  explicit Softmax(const Config& config);

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

// SPDX-License-Identifier: Apache-2.0
// UCB1 (Auer, Cesa-Bianchi & Fischer 2002, "Finite-time analysis of the
// multiarmed bandit problem", Machine Learning 47, fig. 1). Each catalogue
// item a keeps its number of updates n_a and the sample mean of its rewards,
// and the policy plays
//   - a candidate never updated, if there is one (the mass is shared equally
//     among all such candidates: every item is tried once before any index
//     is trusted), else
//   - the candidate with the highest index mean_a + sqrt(c ln N / n_a), where
//     N is the total number of updates (the model version), splitting the mass
//     equally between exact ties.
// c = 2 is the paper's UCB1; its regret bound (Theorem 1) assumes rewards in
// [0, 1]. The pmf is a point mass apart from ties: exploration comes from the
// bonus, not from randomisation. Features are never read: any context is
// accepted. Per-item state is allocated on an item's first update only.
//
// update() adds interaction.reward to context.items[action] and ignores
// interaction.probability (no importance weighting). UCB1 is deliberately not
// a RegressionLearner: its bonus counts plays of an item, and averaging
// importance-weighted targets over all candidates would make n_a count
// requests instead and void the confidence bound.
//
// Cost: probabilities() O(K) hash look-ups and square roots, update() O(1).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/types.h"
#include "policies/item_means.h"
#include "policies/policy.h"

namespace recloop {

class ModelReader;

class Ucb1 final : public Policy {
 public:
  struct Config {
    double c = 2.0;  // exploration constant in sqrt(c ln N / n), finite and >= 0 (2 = UCB1)
    bool operator==(const Config&) const = default;
    // Reads `c` (absent, it keeps the default). Throws ConfigError naming the
    // key, its value and range on bad input.
    static Config from(ConfigSection& section);
  };
  static constexpr std::string_view kName = "ucb1";

  // Throws std::invalid_argument, with the value, unless c is finite and >= 0.
  explicit Ucb1(const Config& config);

  std::vector<double> probabilities(const Context& context) const override;
  void update(const Interaction& interaction) override;
  std::string_view name() const override { return kName; }
  std::uint64_t model_version() const override { return version_; }
  std::unique_ptr<Policy> clone() const override;
  // Writes the config, the model version and the per-item counts and sums.
  void save(ModelWriter& out) const override;
  // Reads what save() wrote; throws recloop::Error on truncated or invalid data.
  static std::unique_ptr<Policy> load(ModelReader& in);

  // Each candidate's upper confidence index, +infinity for an item never updated.
  std::vector<double> indices(const Context& context) const;

  const Config& config() const { return config_; }
  const ItemMeans& means() const { return means_; }

 private:
  Config config_;
  ItemMeans means_;
  std::uint64_t version_ = 0;
};

}  // namespace recloop

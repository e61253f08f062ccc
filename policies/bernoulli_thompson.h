// SPDX-License-Identifier: Apache-2.0
// Thompson sampling with Beta priors (Thompson 1933; Agrawal & Goyal 2012,
// "Analysis of Thompson sampling for the multi-armed bandit problem", COLT,
// Alg. 1 for Bernoulli rewards and Alg. 2 for rewards in [0, 1]). Each
// catalogue item a has a Beta(prior_alpha + S_a, prior_beta + F_a) posterior
// on its mean reward, from S_a successes and F_a failures; the policy plays
// the candidate whose posterior draw is highest. Features are never read: any
// context is accepted.
//
// The pmf is the Monte Carlo estimate of monte_carlo_pmf.h (`draws` joint
// draws, floored, seeded by `seed`, the model version and the candidates), so
// the logged probability is the one the action is drawn with.
//
// update() adds the reward of context.items[action]: rewards are clipped to
// [0, 1]; a reward r strictly between 0 and 1 becomes a success with
// probability r (Agrawal & Goyal's Bernoulli trial, Alg. 2), decided by a
// uniform seeded with (seed, model version, event id), so learning replays
// exactly. interaction.probability is ignored (no importance weighting).
// Per-item state (two counts) is allocated on an item's first update only.
//
// Cost: probabilities() O(draws K) Beta draws (two Gamma draws each);
// update() O(1).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/config.h"
#include "core/types.h"
#include "policies/monte_carlo_pmf.h"
#include "policies/policy.h"

namespace recloop {

class ModelReader;

class BernoulliThompson final : public Policy {
 public:
  struct Config {
    double prior_alpha = 1.0;  // alpha_0 of every item's Beta prior, > 0 (1, 1: uniform prior)
    double prior_beta = 1.0;   // beta_0 of every item's Beta prior, > 0
    int draws = kDefaultMonteCarloDraws;  // Monte Carlo draws per pmf, [1, 1e6]
    std::uint64_t seed = 0;               // seed of the posterior draws and Bernoulli trials
    bool operator==(const Config&) const = default;
    // Reads prior_alpha, prior_beta, draws and seed (absent keys keep the
    // defaults above). Throws ConfigError naming the key, its value and range.
    static Config from(ConfigSection& section);
  };
  static constexpr std::string_view kName = "bernoulli_ts";

  // Successes and failures of one item.
  struct Counts {
    std::uint64_t successes = 0;
    std::uint64_t failures = 0;
    bool operator==(const Counts&) const = default;
  };

  // Throws std::invalid_argument, with the value, unless both priors are
  // finite and > 0 and draws is in [1, 1e6].
  explicit BernoulliThompson(const Config& config);
  BernoulliThompson();  // default Config

  std::vector<double> probabilities(const Context& context) const override;
  // Requires a finite reward (checked).
  void update(const Interaction& interaction) override;
  std::string_view name() const override { return kName; }
  std::uint64_t model_version() const override { return version_; }
  std::unique_ptr<Policy> clone() const override;
  // Writes the config, the model version and every item's counts (items in
  // increasing id order, so equal states give equal bytes).
  void save(ModelWriter& out) const override;
  // Reads what save() wrote; throws recloop::Error on truncated or
  // inconsistent data (ids not increasing, counts not adding up to the version).
  static std::unique_ptr<Policy> load(ModelReader& in);

  // The counts of `item`; zero for an item never updated.
  Counts counts(ItemId item) const;
  // Items with state (updated at least once).
  std::size_t arm_count() const { return counts_.size(); }
  const Config& config() const { return config_; }

 private:
  Config config_;
  std::unordered_map<ItemId, Counts> counts_;
  std::uint64_t version_ = 0;
};

}  // namespace recloop

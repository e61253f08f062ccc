// SPDX-License-Identifier: Apache-2.0
// Online bootstrap ensemble ("bagging"), as VW's --cb_explore_adf --bag and
// the Bag algorithm of Bietti, Agarwal & Langford 2021 ("A contextual bandit
// bake-off", JMLR 22, sec. 3): B members, each a disjoint per-item ridge
// regression (ridge.h), see the same interactions with independent
// Poisson(1) importance weights -- the online bagging of Oza & Russell 2001
// ("Online bagging and boosting", AISTATS), which approximates resampling the
// data with replacement. The pmf is the share of members whose greedy choice
// is each candidate (a member with tied best candidates splits its vote
// equally), mixed with uniform exploration:
//   P(a) = (1 - epsilon) * (1/B) sum_m 1[a in argmax_m] / |argmax_m| + epsilon / K,
// a bootstrap approximation of Thompson sampling's probability that a is the
// best candidate. With `greedify`, member 0 always gets weight 1 (it is the
// plain greedy learner, the bake-off's "greedy bagging" and VW's --greedify),
// so B = 1 with greedify is greedy ridge regression.
//
// Prior: members regress reward - initial_value, so an item never updated
// (and every direction of feature space not yet seen) predicts initial_value.
// The bootstrap only spreads the members where there are data; it cannot
// make them try an item none of them has seen. With rewards in [0, 1] and
// initial_value = 0 a new item looks worst and, once some item pays, may
// never be tried (the ensemble locks in); initial_value = 1 makes every
// member try it (the optimism of the initial predictions that the cost
// encodings compared by Bietti et al. 2021 turn on or off). Small ensembles
// can still lock in: on 5 Bernoulli arms with click rates 0.2-0.8 and one
// constant feature (T = 20,000, 50 seeds), B = 5 with initial_value = 1
// locked onto a suboptimal arm in 1 seed, B = 10 and B = 20 in none (regret
// at most 50, against 4,000-12,000 in the locked-in seeds without optimism);
// epsilon > 0 rules it out at a linear cost.
//
// Reproducibility: member m's weight on the update that makes version t + 1
// is bootstrap_weight(seed, t, m), a function of the config seed and the
// update count alone (no hidden RNG state), so a reloaded ensemble draws the
// same weights for the same subsequent updates. probabilities() is
// deterministic (no sampling).
//
// update() regresses interaction.reward on the chosen candidate's features
// for every member with a positive weight, and ignores
// interaction.probability; learn() (RegressionLearner) takes per-candidate
// IPS or DR targets with the same weights.
//
// Cost: probabilities() O(B K d), update() O(B d^2) (about 0.63 B ridge
// steps: members drawing weight 0 are skipped). Memory: B ridge models.
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

class Bagging final : public Policy, public RegressionLearner {
 public:
  struct Config {
    int members = 5;             // ensemble size B, [1, 1000]
    double epsilon = 0.0;        // uniform exploration mixed into the votes, [0, 1]
    double ridge = 1.0;          // prior precision of each member's ridge regressions, > 0
    double initial_value = 0.0;  // prediction for an item never updated, finite
    bool greedify = false;       // member 0 always learns with weight 1
    std::uint64_t seed = 0;      // seed of the bootstrap weights ([0, 2^63 - 1] from a section)
    bool operator==(const Config&) const = default;
    // Reads `members`, `epsilon`, `ridge`, `initial_value`, `greedify` and
    // `seed` (absent keys keep the defaults above). Throws ConfigError naming
    // the key, its value and range on bad input.
    static Config from(ConfigSection& section);
  };
  static constexpr std::string_view kName = "bagging";
  static constexpr int kMaxMembers = 1000;

  // Throws std::invalid_argument, with the value, unless members is in
  // [1, kMaxMembers], epsilon in [0, 1], ridge finite and > 0, initial_value
  // finite and feature_dim >= 1.
  Bagging(const Config& config, int feature_dim);

  // Requires context.feature_dim() == feature_dim() (checked).
  std::vector<double> probabilities(const Context& context) const override;
  void update(const Interaction& interaction) override;
  std::string_view name() const override { return kName; }
  std::uint64_t model_version() const override { return version_; }
  std::unique_ptr<Policy> clone() const override;
  // Writes the config, the model version and every member's ridge state.
  void save(ModelWriter& out) const override;
  // Reads what save() wrote; throws recloop::Error on truncated or invalid data.
  static std::unique_ptr<Policy> load(ModelReader& in);

  // RegressionLearner: predict_rewards() is initial_value plus the members'
  // average ridge mean;
  // learn() is one weighted ridge step per member on every candidate's item,
  // with the same weights update() would use (one model version).
  void predict_rewards(const Context& context, std::span<double> out) const override;
  void learn(const Context& context, std::span<const double> targets) override;

  // The Poisson(1) weight of member `member` on the update made at model
  // version `update`: a draw by inversion of the Poisson CDF from the uniform
  // uniform01(stream_seed(stream_seed(seed, update), member)), capped at 20
  // (P(k > 20) < 1e-19).
  static unsigned bootstrap_weight(std::uint64_t seed, std::uint64_t update, std::size_t member);

  const Config& config() const { return config_; }
  int feature_dim() const { return members_.front().dim(); }
  const std::vector<DisjointRidge>& members() const { return members_; }

 private:
  // The weight of member m on the next update (greedify included).
  unsigned weight(std::size_t member) const;

  Config config_;
  std::vector<DisjointRidge> members_;
  std::uint64_t version_ = 0;
};

}  // namespace recloop

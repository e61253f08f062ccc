// SPDX-License-Identifier: Apache-2.0
// Thompson sampling for click rewards with a Bayesian logistic regression
// under a diagonal Laplace approximation (Chapelle & Li 2011, "An empirical
// evaluation of Thompson sampling", NIPS, Alg. 3). The click probability of
// candidate a is sigmoid(w' x), x = joint_features(context, a), and each
// weight w_i has an independent Gaussian posterior N(m_i, 1 / q_i), starting
// from the prior m_i = 0, q_i = lambda. A request draws w~ ~ N(m, v^2 diag(q)^-1)
// and plays argmax_a x_a' w~ (the argmax of the sampled click probability).
//
// Learning is Alg. 3 online, one observation per batch: for a click label
// r in [0, 1] on features x,
//   w = argmin 1/2 sum_i q_i (w_i - m_i)^2 - r ln p - (1 - r) ln(1 - p),
//       p = sigmoid(w'x)
//   (for r in {0, 1} the paper's log(1 + exp(-y w'x)), y = 2r - 1),
//   m = w,   q_i += x_i^2 p (1 - p)   with p at the new w.
// The minimiser lies on the line w = m + c diag(q)^-1 x, so it is found by a
// safeguarded one-dimensional Newton iteration on the margin s = w'x: O(d).
// Rewards are clipped to [0, 1] (a fractional reward is a soft label).
//
// Two models, chosen by `model`:
//   disjoint  one logistic regression per catalogue item; candidate a's
//             score x_a' w~_a is then exactly N(x_a' m_a, v^2 sum_i x_ai^2 / q_ai),
//             independent across candidates, and is drawn as that normal;
//             per-item state is allocated on an item's first update only.
//   shared    one regression for all items (the paper's display-advertising
//             setting): a draw samples the whole w~ (d normals) and scores
//             every candidate with it.
//
// v scales the posterior sd (1: the Laplace posterior; v < 1 explores less).
// The pmf is the Monte Carlo estimate of monte_carlo_pmf.h.
// interaction.probability is ignored (no importance weighting).
//
// Cost: probabilities() O(K d + draws K) disjoint, O(draws (d + K d)) shared;
// update() O(d).
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

class LogisticThompson final : public Policy {
 public:
  enum class Model { kDisjoint, kShared };

  struct Config {
    double lambda = 1.0;  // prior precision of every weight, finite and > 0 (lambda of Alg. 3)
    double v = 1.0;       // scale of the posterior sd, finite and >= 0
    Model model = Model::kDisjoint;       // one regression per item, or one shared
    int draws = kDefaultMonteCarloDraws;  // Monte Carlo draws per pmf, [1, 1e6]
    std::uint64_t seed = 0;               // seed of the posterior draws
    bool operator==(const Config&) const = default;
    // Reads lambda, v, model, draws and seed (absent keys keep the defaults
    // above). Throws ConfigError naming the key, its value and range.
    static Config from(ConfigSection& section);
  };
  static constexpr std::string_view kName = "logistic_ts";

  // One regression's posterior: weight i ~ N(mean[i], 1 / precision[i]).
  struct Posterior {
    std::vector<double> mean;
    std::vector<double> precision;
  };

  // Throws std::invalid_argument, with the value, unless lambda > 0, v >= 0
  // (both finite), draws is in [1, 1e6] and feature_dim >= 1.
  LogisticThompson(const Config& config, int feature_dim);

  // Requires context.feature_dim() == feature_dim() (checked).
  std::vector<double> probabilities(const Context& context) const override;
  // Requires a finite reward (checked).
  void update(const Interaction& interaction) override;
  std::string_view name() const override { return kName; }
  std::uint64_t model_version() const override { return version_; }
  std::unique_ptr<Policy> clone() const override;
  // Writes the config, the model version and every regression's m and q bit for bit.
  void save(ModelWriter& out) const override;
  // Reads what save() wrote; throws recloop::Error on truncated or inconsistent data.
  static std::unique_ptr<Policy> load(ModelReader& in);

  // The posterior used for `item` (the shared one in the shared model; the
  // prior for an item never updated in the disjoint model).
  Posterior posterior(ItemId item) const;
  // The posterior-mean click probability sigmoid(x' m) of every candidate.
  std::vector<double> click_probabilities(const Context& context) const;

  const Config& config() const { return config_; }
  int feature_dim() const { return dim_; }
  // Regressions with state: items updated at least once (disjoint), 1 (shared).
  std::size_t arm_count() const { return updates_.size(); }

 private:
  static constexpr std::uint32_t kNoSlot = ~std::uint32_t{0};
  std::uint32_t slot(ItemId item) const;
  void check_dim(const Context& context) const;

  Config config_;
  int dim_;
  std::unordered_map<ItemId, std::uint32_t> slots_;  // disjoint: item -> slot
  std::vector<double> m_;                            // d per slot
  std::vector<double> q_;                            // d per slot
  std::vector<std::uint64_t> updates_;               // per slot
  std::uint64_t version_ = 0;
};

}  // namespace recloop

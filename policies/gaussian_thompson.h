// SPDX-License-Identifier: Apache-2.0
// Thompson sampling with Gaussian posteriors on each catalogue item's mean
// reward (Thompson 1933). Two conjugate models, chosen by `variance`:
//
//   known    the reward noise has known standard deviation noise_sd, and the
//            mean a Normal(prior_mean, prior_sd^2) prior. After n rewards
//            with average rbar the posterior is Normal with precision
//            1/prior_sd^2 + n/noise_sd^2 (Murphy 2007, "Conjugate Bayesian
//            analysis of the Gaussian distribution", sec. 2). With
//            prior_mean = 0 and prior_sd = noise_sd = 1 this is the Gaussian
//            Thompson sampling of Agrawal & Goyal 2013, "Further optimal
//            regret bounds for Thompson sampling", AISTATS, Alg. 2:
//            N(rbar n / (n + 1), 1 / (n + 1)).
//   unknown  mean and noise precision both unknown, with the Normal-Gamma
//            prior NG(prior_mean, prior_count, prior_shape, prior_rate)
//            (Murphy 2007, sec. 3): the precision lambda ~ Gamma(shape, rate)
//            and the mean ~ Normal(mu, 1 / (count lambda)). Heavier-tailed
//            (Student t) while an item has few rewards, and it learns the
//            noise level instead of assuming it.
//
// The policy plays the candidate whose posterior draw of the mean is highest;
// the pmf is the Monte Carlo estimate of monte_carlo_pmf.h. Features are
// never read: any context is accepted. update() adds the (finite, checked)
// reward of context.items[action] and ignores interaction.probability.
// Per-item state (count, mean and sum of squared deviations, by Welford's
// method) is allocated on an item's first update only.
//
// Cost: probabilities() O(draws K) normal draws (known) or normal and Gamma
// draws (unknown); update() O(1).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/config.h"
#include "core/types.h"
#include "policies/monte_carlo_pmf.h"
#include "policies/policy.h"
#include "policies/regression_learner.h"

namespace recloop {

class ModelReader;

class GaussianThompson final : public Policy, public RegressionLearner {
 public:
  enum class Variance { kKnown, kUnknown };

  struct Config {
    Variance variance = Variance::kKnown;  // which conjugate model (see above)
    double prior_mean = 0.0;   // prior mean of every item's mean reward, finite
    double prior_sd = 1.0;     // known: prior sd of each mean, > 0
    double noise_sd = 1.0;     // known: sd of the reward noise, > 0
    double prior_count = 1.0;  // unknown: pseudo-observations behind prior_mean, > 0
    double prior_shape = 1.0;  // unknown: shape of the Gamma prior on the noise precision, > 0
    double prior_rate = 1.0;   // unknown: rate of that Gamma prior, > 0
    int draws = kDefaultMonteCarloDraws;  // Monte Carlo draws per pmf, [1, 1e6]
    std::uint64_t seed = 0;               // seed of the posterior draws
    bool operator==(const Config&) const = default;
    // Reads every key above (absent keys keep the defaults). Throws
    // ConfigError naming the key, its value and range.
    static Config from(ConfigSection& section);
  };
  static constexpr std::string_view kName = "gaussian_ts";

  // Running statistics of one item's rewards (Welford 1962).
  struct Stats {
    std::uint64_t count = 0;
    double mean = 0.0;
    double m2 = 0.0;  // sum of squared deviations from the mean
    bool operator==(const Stats&) const = default;
  };

  // One item's posterior on its mean reward.
  struct Posterior {
    double mean = 0.0;   // posterior mean of the mean reward
    double scale = 0.0;  // known: posterior sd; unknown: scale of the Student t marginal
    double dof = 0.0;    // unknown: degrees of freedom of that t (2 * shape); known: 0
  };

  // Throws std::invalid_argument, with the value, unless every sd, count,
  // shape and rate is finite and > 0, prior_mean is finite and draws in [1, 1e6].
  explicit GaussianThompson(const Config& config);
  GaussianThompson();  // default Config

  std::vector<double> probabilities(const Context& context) const override;
  // Requires a finite reward (checked).
  void update(const Interaction& interaction) override;
  std::string_view name() const override { return kName; }
  std::uint64_t model_version() const override { return version_; }
  std::unique_ptr<Policy> clone() const override;
  // Writes the config, the model version and every item's statistics (items
  // in increasing id order, so equal states give equal bytes).
  void save(ModelWriter& out) const override;
  // Reads what save() wrote; throws recloop::Error on truncated or inconsistent data.
  static std::unique_ptr<Policy> load(ModelReader& in);

  // RegressionLearner: the posterior means; learn() adds targets[a] as a
  // reward of every candidate's item, as one model version.
  void predict_rewards(const Context& context, std::span<double> out) const override;
  void learn(const Context& context, std::span<const double> targets) override;

  Posterior posterior(ItemId item) const;
  Stats stats(ItemId item) const;
  std::size_t arm_count() const { return stats_.size(); }
  const Config& config() const { return config_; }

 private:
  void add(ItemId item, double reward);

  Config config_;
  std::unordered_map<ItemId, Stats> stats_;
  std::uint64_t version_ = 0;
};

}  // namespace recloop

// SPDX-License-Identifier: Apache-2.0
#include "policies/gaussian_thompson.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/check.h"
#include "core/error.h"
#include "core/model_io.h"

namespace recloop {
namespace {

void require_positive(const char* field, double value) {
  if (!(std::isfinite(value) && value > 0.0)) {
    throw std::invalid_argument(std::string("GaussianThompson: ") + field + " = " +
                                std::to_string(value) + ", need > 0");
  }
}

const GaussianThompson::Config& validated(const GaussianThompson::Config& config) {
  if (!std::isfinite(config.prior_mean)) {
    throw std::invalid_argument("GaussianThompson: prior_mean = " +
                                std::to_string(config.prior_mean) + ", need a finite value");
  }
  require_positive("prior_sd", config.prior_sd);
  require_positive("noise_sd", config.noise_sd);
  require_positive("prior_count", config.prior_count);
  require_positive("prior_shape", config.prior_shape);
  require_positive("prior_rate", config.prior_rate);
  validate_monte_carlo_draws("GaussianThompson", config.draws);
  return config;
}

// The Normal-Gamma posterior NG(mu, kappa, shape, rate) after `s` (Murphy
// 2007, sec. 3, in terms of the count n, mean rbar and sum of squared
// deviations m2 of the rewards):
//   kappa_n = kappa_0 + n,   mu_n = (kappa_0 mu_0 + n rbar) / kappa_n,
//   shape_n = shape_0 + n/2,
//   rate_n  = rate_0 + m2/2 + kappa_0 n (rbar - mu_0)^2 / (2 kappa_n).
struct NormalGamma {
  double mu, kappa, shape, rate;
};

NormalGamma normal_gamma(const GaussianThompson::Config& c, const GaussianThompson::Stats& s) {
  const double n = static_cast<double>(s.count);
  const double kappa = c.prior_count + n;
  const double deviation = s.mean - c.prior_mean;
  return {(c.prior_count * c.prior_mean + n * s.mean) / kappa, kappa, c.prior_shape + 0.5 * n,
          c.prior_rate + 0.5 * s.m2 + c.prior_count * n * deviation * deviation / (2.0 * kappa)};
}

}  // namespace

GaussianThompson::Config GaussianThompson::Config::from(ConfigSection& section) {
  const Config defaults;
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  Config config;
  const std::string variance = section.get_choice(
      "variance", "known", {"known", "unknown"},
      "reward noise: known (Normal prior, noise_sd) or unknown (Normal-Gamma prior)");
  config.variance = variance == "known" ? Variance::kKnown : Variance::kUnknown;
  config.prior_mean = section.get_double("prior_mean", defaults.prior_mean, -kInfinity, kInfinity,
                                         "prior mean of every item's mean reward");
  config.prior_sd = section.get_double("prior_sd", defaults.prior_sd, 0.0, kInfinity,
                                       "known variance: prior sd of each item's mean", true);
  config.noise_sd = section.get_double("noise_sd", defaults.noise_sd, 0.0, kInfinity,
                                       "known variance: sd of the reward noise", true);
  config.prior_count =
      section.get_double("prior_count", defaults.prior_count, 0.0, kInfinity,
                         "unknown variance: pseudo-observations behind prior_mean", true);
  config.prior_shape =
      section.get_double("prior_shape", defaults.prior_shape, 0.0, kInfinity,
                         "unknown variance: shape of the Gamma prior on the noise precision", true);
  config.prior_rate =
      section.get_double("prior_rate", defaults.prior_rate, 0.0, kInfinity,
                         "unknown variance: rate of the Gamma prior on the noise precision", true);
  config.draws = read_monte_carlo_draws(section, defaults.draws);
  config.seed = read_monte_carlo_seed(section, defaults.seed);
  return config;
}

GaussianThompson::GaussianThompson(const Config& config) : config_(validated(config)) {}

GaussianThompson::GaussianThompson() : GaussianThompson(Config{}) {}

GaussianThompson::Stats GaussianThompson::stats(ItemId item) const {
  const auto it = stats_.find(item);
  return it == stats_.end() ? Stats{} : it->second;
}

GaussianThompson::Posterior GaussianThompson::posterior(ItemId item) const {
  const Stats s = stats(item);
  if (config_.variance == Variance::kKnown) {
    // Murphy 2007, sec. 2: precision_n = 1/sd_0^2 + n/sd^2,
    // mean_n = (mu_0/sd_0^2 + n rbar/sd^2) / precision_n.
    const double prior_precision = 1.0 / (config_.prior_sd * config_.prior_sd);
    const double data_precision =
        static_cast<double>(s.count) / (config_.noise_sd * config_.noise_sd);
    const double precision = prior_precision + data_precision;
    return {(prior_precision * config_.prior_mean + data_precision * s.mean) / precision,
            1.0 / std::sqrt(precision), 0.0};
  }
  // The marginal of the mean under NG: Student t with 2 shape_n degrees of
  // freedom, location mu_n and scale^2 = rate_n / (shape_n kappa_n) (Murphy 2007, sec. 3).
  const NormalGamma ng = normal_gamma(config_, s);
  return {ng.mu, std::sqrt(ng.rate / (ng.shape * ng.kappa)), 2.0 * ng.shape};
}

std::vector<double> GaussianThompson::probabilities(const Context& context) const {
  RECLOOP_CHECK(context.size() > 0, "a context needs at least one candidate");
  const std::size_t k = context.size();
  const std::uint64_t seed = monte_carlo_seed(config_.seed, version_, context.items);
  if (config_.variance == Variance::kKnown) {
    // Independent Normal posteriors: the draws of monte_carlo_pmf.h, one normal per candidate.
    std::vector<double> means(k);
    std::vector<double> sds(k);
    for (std::size_t a = 0; a < k; ++a) {
      const Posterior p = posterior(context.items[a]);
      means[a] = p.mean;
      sds[a] = p.scale;
    }
    return independent_normal_pmf(means, sds, config_.draws, seed);
  }
  std::vector<NormalGamma> posteriors(k);
  std::vector<GammaSampler> precisions;  // Gamma(shape_n) samplers, constants computed once
  precisions.reserve(k);
  for (std::size_t a = 0; a < k; ++a) {
    posteriors[a] = normal_gamma(config_, stats(context.items[a]));
    precisions.emplace_back(posteriors[a].shape);
  }
  return monte_carlo_pmf(k, config_.draws, seed,
                         [&](NormalStream& normals, std::span<double> scores) {
                           for (std::size_t a = 0; a < k; ++a) {
                             // lambda ~ Gamma(shape_n, rate_n), then
                             // mean ~ Normal(mu_n, 1 / (kappa_n lambda)).
                             const NormalGamma& ng = posteriors[a];
                             const double lambda = precisions[a](normals) / ng.rate;
                             scores[a] = ng.mu + normals.next() / std::sqrt(ng.kappa * lambda);
                           }
                         });
}

void GaussianThompson::add(ItemId item, double reward) {
  RECLOOP_CHECK(std::isfinite(reward), "gaussian_ts: non-finite reward " + std::to_string(reward));
  Stats& s = stats_[item];
  // Welford 1962: running mean and sum of squared deviations, without the
  // cancellation of sum(r^2) - n rbar^2.
  ++s.count;
  const double delta = reward - s.mean;
  s.mean += delta / static_cast<double>(s.count);
  s.m2 += delta * (reward - s.mean);
}

void GaussianThompson::update(const Interaction& interaction) {
  RECLOOP_CHECK(interaction.action < interaction.context.size(), "action outside the context");
  add(interaction.context.items[interaction.action], interaction.reward);
  ++version_;
}

void GaussianThompson::predict_rewards(const Context& context, std::span<double> out) const {
  RECLOOP_CHECK(out.size() == context.size(), "gaussian_ts: one output per candidate");
  for (std::size_t a = 0; a < context.size(); ++a) out[a] = posterior(context.items[a]).mean;
}

void GaussianThompson::learn(const Context& context, std::span<const double> targets) {
  RECLOOP_CHECK(targets.size() == context.size(), "gaussian_ts: one target per candidate");
  for (std::size_t a = 0; a < context.size(); ++a) add(context.items[a], targets[a]);
  ++version_;
}

std::unique_ptr<Policy> GaussianThompson::clone() const {
  return std::make_unique<GaussianThompson>(*this);
}

void GaussianThompson::save(ModelWriter& out) const {
  out.put_u64(config_.variance == Variance::kKnown ? 0 : 1);
  out.put_f64(config_.prior_mean);
  out.put_f64(config_.prior_sd);
  out.put_f64(config_.noise_sd);
  out.put_f64(config_.prior_count);
  out.put_f64(config_.prior_shape);
  out.put_f64(config_.prior_rate);
  out.put_u64(static_cast<std::uint64_t>(config_.draws));
  out.put_u64(config_.seed);
  out.put_u64(version_);
  std::vector<std::uint64_t> items;
  items.reserve(stats_.size());
  for (const auto& entry : stats_) items.push_back(entry.first);
  std::sort(items.begin(), items.end());
  std::vector<std::uint64_t> counts;
  std::vector<double> means;
  std::vector<double> m2s;
  for (const ItemId item : items) {
    const Stats& s = stats_.at(item);
    counts.push_back(s.count);
    means.push_back(s.mean);
    m2s.push_back(s.m2);
  }
  out.put_u64s(items);
  out.put_u64s(counts);
  out.put_doubles(means);
  out.put_doubles(m2s);
}

std::unique_ptr<Policy> GaussianThompson::load(ModelReader& in) {
  Config config;
  const std::uint64_t variance = in.get_u64("gaussian_ts variance");
  if (variance > 1) throw Error("model data: gaussian_ts variance model " + std::to_string(variance));
  config.variance = variance == 0 ? Variance::kKnown : Variance::kUnknown;
  config.prior_mean = in.get_f64("gaussian_ts prior_mean");
  config.prior_sd = in.get_f64("gaussian_ts prior_sd");
  config.noise_sd = in.get_f64("gaussian_ts noise_sd");
  config.prior_count = in.get_f64("gaussian_ts prior_count");
  config.prior_shape = in.get_f64("gaussian_ts prior_shape");
  config.prior_rate = in.get_f64("gaussian_ts prior_rate");
  const std::uint64_t draws = in.get_u64("gaussian_ts draws");
  config.draws = static_cast<int>(std::min<std::uint64_t>(draws, kMaxMonteCarloDraws + 1ULL));
  config.seed = in.get_u64("gaussian_ts seed");
  const std::uint64_t version = in.get_u64("gaussian_ts model version");
  std::unique_ptr<GaussianThompson> policy;
  try {
    policy = std::make_unique<GaussianThompson>(config);
  } catch (const std::invalid_argument& e) {
    throw Error(std::string("model data: ") + e.what());
  }
  const auto items = in.get_u64s("gaussian_ts items");
  const auto counts = in.get_u64s("gaussian_ts counts");
  const auto means = in.get_doubles("gaussian_ts means");
  const auto m2s = in.get_doubles("gaussian_ts squared deviations");
  if (counts.size() != items.size() || means.size() != items.size() ||
      m2s.size() != items.size()) {
    throw Error("model data: gaussian_ts has " + std::to_string(items.size()) +
                " items but statistics of another length");
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0 && items[i] <= items[i - 1]) {
      throw Error("model data: gaussian_ts items are not in increasing order");
    }
    if (counts[i] == 0 || !std::isfinite(means[i]) || !(m2s[i] >= 0.0) || !std::isfinite(m2s[i])) {
      throw Error("model data: gaussian_ts item " + std::to_string(items[i]) +
                  " has invalid statistics");
    }
    policy->stats_.emplace(items[i], Stats{counts[i], means[i], m2s[i]});
  }
  policy->version_ = version;
  return policy;
}

}  // namespace recloop

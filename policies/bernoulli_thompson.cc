// SPDX-License-Identifier: Apache-2.0
#include "policies/bernoulli_thompson.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/check.h"
#include "core/error.h"
#include "core/model_io.h"
#include "core/rng.h"
#include "core/sampling.h"

namespace recloop {
namespace {

// Separates the Bernoulli-trial stream from the Monte Carlo streams of the same seed.
constexpr std::uint64_t kTrialStream = 0x7B1A3C5E9D2F4680ULL;

const BernoulliThompson::Config& validated(const BernoulliThompson::Config& config) {
  const auto positive = [](const char* field, double value) {
    if (!(std::isfinite(value) && value > 0.0)) {
      throw std::invalid_argument(std::string("BernoulliThompson: ") + field + " = " +
                                  std::to_string(value) + ", need > 0");
    }
  };
  positive("prior_alpha", config.prior_alpha);
  positive("prior_beta", config.prior_beta);
  validate_monte_carlo_draws("BernoulliThompson", config.draws);
  return config;
}

}  // namespace

BernoulliThompson::Config BernoulliThompson::Config::from(ConfigSection& section) {
  const Config defaults;
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  Config config;
  config.prior_alpha =
      section.get_double("prior_alpha", defaults.prior_alpha, 0.0, kInfinity,
                         "alpha_0 of each item's Beta prior (prior successes)", true);
  config.prior_beta =
      section.get_double("prior_beta", defaults.prior_beta, 0.0, kInfinity,
                         "beta_0 of each item's Beta prior (prior failures)", true);
  config.draws = read_monte_carlo_draws(section, defaults.draws);
  config.seed = read_monte_carlo_seed(section, defaults.seed);
  return config;
}

BernoulliThompson::BernoulliThompson(const Config& config) : config_(validated(config)) {}

BernoulliThompson::BernoulliThompson() : BernoulliThompson(Config{}) {}

BernoulliThompson::Counts BernoulliThompson::counts(ItemId item) const {
  const auto it = counts_.find(item);
  return it == counts_.end() ? Counts{} : it->second;
}

std::vector<double> BernoulliThompson::probabilities(const Context& context) const {
  RECLOOP_CHECK(context.size() > 0, "a context needs at least one candidate");
  const std::size_t k = context.size();
  std::vector<BetaSampler> posteriors;
  posteriors.reserve(k);
  for (std::size_t a = 0; a < k; ++a) {
    // Agrawal & Goyal 2012, Alg. 1: theta_i ~ Beta(S_i + 1, F_i + 1), with
    // the uniform prior Beta(1, 1) generalised to Beta(prior_alpha, prior_beta).
    // The sampler's constants are computed once for all the draws.
    const Counts c = counts(context.items[a]);
    posteriors.emplace_back(config_.prior_alpha + static_cast<double>(c.successes),
                            config_.prior_beta + static_cast<double>(c.failures));
  }
  // Alg. 1: play argmax_i theta_i; its probability by Monte Carlo (monte_carlo_pmf.h).
  return monte_carlo_pmf(k, config_.draws,
                         monte_carlo_seed(config_.seed, version_, context.items),
                         [&](NormalStream& normals, std::span<double> scores) {
                           for (std::size_t a = 0; a < k; ++a) scores[a] = posteriors[a](normals);
                         });
}

void BernoulliThompson::update(const Interaction& interaction) {
  RECLOOP_CHECK(interaction.action < interaction.context.size(), "action outside the context");
  RECLOOP_CHECK(std::isfinite(interaction.reward),
                "bernoulli_ts: non-finite reward " + std::to_string(interaction.reward));
  const double reward = std::clamp(interaction.reward, 0.0, 1.0);
  // Agrawal & Goyal 2012, Alg. 2: a reward r in [0, 1] enters as the outcome
  // of a Bernoulli trial with success probability r (exactly r = 0 or 1
  // needs no trial). The uniform is seeded by (seed, version, event id).
  bool success = reward == 1.0;
  if (reward > 0.0 && reward < 1.0) {
    const std::uint64_t bits =
        splitmix64(stream_seed(config_.seed ^ kTrialStream, version_) ^
                   fnv1a64(interaction.event_id));
    success = uniform01(bits) < reward;
  }
  Counts& c = counts_[interaction.context.items[interaction.action]];
  // Alg. 1-2: S_i += 1 on success, F_i += 1 otherwise.
  if (success) {
    ++c.successes;
  } else {
    ++c.failures;
  }
  ++version_;
}

std::unique_ptr<Policy> BernoulliThompson::clone() const {
  return std::make_unique<BernoulliThompson>(*this);
}

void BernoulliThompson::save(ModelWriter& out) const {
  out.put_f64(config_.prior_alpha);
  out.put_f64(config_.prior_beta);
  out.put_u64(static_cast<std::uint64_t>(config_.draws));
  out.put_u64(config_.seed);
  out.put_u64(version_);
  std::vector<std::uint64_t> items;
  items.reserve(counts_.size());
  for (const auto& entry : counts_) items.push_back(entry.first);
  std::sort(items.begin(), items.end());
  std::vector<std::uint64_t> successes;
  std::vector<std::uint64_t> failures;
  for (const ItemId item : items) {
    successes.push_back(counts_.at(item).successes);
    failures.push_back(counts_.at(item).failures);
  }
  out.put_u64s(items);
  out.put_u64s(successes);
  out.put_u64s(failures);
}

std::unique_ptr<Policy> BernoulliThompson::load(ModelReader& in) {
  Config config;
  config.prior_alpha = in.get_f64("bernoulli_ts prior_alpha");
  config.prior_beta = in.get_f64("bernoulli_ts prior_beta");
  const std::uint64_t draws = in.get_u64("bernoulli_ts draws");
  config.draws = static_cast<int>(std::min<std::uint64_t>(draws, kMaxMonteCarloDraws + 1ULL));
  config.seed = in.get_u64("bernoulli_ts seed");
  const std::uint64_t version = in.get_u64("bernoulli_ts model version");
  std::unique_ptr<BernoulliThompson> policy;
  try {
    policy = std::make_unique<BernoulliThompson>(config);
  } catch (const std::invalid_argument& e) {
    throw Error(std::string("model data: ") + e.what());
  }
  const auto items = in.get_u64s("bernoulli_ts items");
  const auto successes = in.get_u64s("bernoulli_ts successes");
  const auto failures = in.get_u64s("bernoulli_ts failures");
  if (successes.size() != items.size() || failures.size() != items.size()) {
    throw Error("model data: bernoulli_ts has " + std::to_string(items.size()) + " items but " +
                std::to_string(successes.size()) + " success and " +
                std::to_string(failures.size()) + " failure counts");
  }
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0 && items[i] <= items[i - 1]) {
      throw Error("model data: bernoulli_ts items are not in increasing order");
    }
    const std::uint64_t n = successes[i] + failures[i];
    if (n == 0 || n < successes[i] || total + n < total) {
      throw Error("model data: bernoulli_ts item " + std::to_string(items[i]) +
                  " has invalid counts");
    }
    total += n;
    policy->counts_.emplace(items[i], Counts{successes[i], failures[i]});
  }
  // Every update() adds exactly one success or failure.
  if (total != version) {
    throw Error("model data: bernoulli_ts model version " + std::to_string(version) + " but " +
                std::to_string(total) + " observations");
  }
  policy->version_ = version;
  return policy;
}

}  // namespace recloop

// SPDX-License-Identifier: Apache-2.0
#include "policies/softmax.h"

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

const Softmax::Config& validated(const Softmax::Config& config) {
  if (!(std::isfinite(config.temperature) && config.temperature > 0.0)) {
    throw std::invalid_argument("Softmax: temperature = " + std::to_string(config.temperature) +
                                ", need > 0");
  }
  if (!std::isfinite(config.initial_value)) {
    throw std::invalid_argument("Softmax: initial_value = " +
                                std::to_string(config.initial_value) + ", need a finite value");
  }
  return config;
}

}  // namespace

std::vector<double> softmax_pmf(std::span<const double> scores, double temperature) {
  if (scores.empty()) throw std::invalid_argument("softmax_pmf: no scores");
  if (!(std::isfinite(temperature) && temperature > 0.0)) {
    throw std::invalid_argument("softmax_pmf: temperature = " + std::to_string(temperature) +
                                ", need > 0");
  }
  double best = scores[0];
  for (double s : scores) {
    if (!std::isfinite(s)) {
      throw std::invalid_argument("softmax_pmf: non-finite score " + std::to_string(s));
    }
    best = std::max(best, s);
  }
  // exp(s / T) / sum exp(s' / T) = exp((s - max) / T) / sum exp((s' - max) / T):
  // every exponent is <= 0, so nothing overflows, and the maximum contributes
  // exp(0) = 1, so the sum is >= 1. (s - max) may round to -inf for a tiny T
  // or a huge spread of scores; exp(-inf) = 0 is then the right limit.
  std::vector<double> pmf(scores.size());
  double total = 0.0;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    pmf[i] = std::exp((scores[i] - best) / temperature);
    total += pmf[i];
  }
  for (double& p : pmf) p /= total;
  return pmf;
}

Softmax::Config Softmax::Config::from(ConfigSection& section) {
  const Config defaults;
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  Config config;
  config.temperature = section.get_double(
      "temperature", defaults.temperature, 0.0, kInfinity,
      "Boltzmann temperature in reward units: large is uniform, small is greedy",
      /*min_exclusive=*/true);
  config.initial_value = section.get_double("initial_value", defaults.initial_value, -kInfinity,
                                            kInfinity, "value of an item never updated",
                                            /*min_exclusive=*/true);
  return config;
}

Softmax::Softmax(const Config& config) : config_(validated(config)) {}

std::vector<double> Softmax::values(const Context& context) const {
  RECLOOP_CHECK(context.size() > 0, "a context needs at least one candidate");
  std::vector<double> values(context.size());
  for (std::size_t a = 0; a < context.size(); ++a) {
    // Sutton & Barto 2018, eq. 2.1: the sample average of a's rewards.
    values[a] = means_.mean(context.items[a], config_.initial_value);
  }
  return values;
}

std::vector<double> Softmax::probabilities(const Context& context) const {
  // Sutton & Barto 2018, eq. 2.11, with preferences H(a) = Q(a) / temperature.
  return softmax_pmf(values(context), config_.temperature);
}

void Softmax::update(const Interaction& interaction) {
  RECLOOP_CHECK(interaction.action < interaction.context.size(), "action outside the context");
  means_.add(interaction.context.items[interaction.action], interaction.reward);
  ++version_;
}

void Softmax::predict_rewards(const Context& context, std::span<double> out) const {
  RECLOOP_CHECK(out.size() == context.size(),
                "softmax: predict_rewards() needs one output per candidate");
  const auto v = values(context);
  std::copy(v.begin(), v.end(), out.begin());
}

void Softmax::learn(const Context& context, std::span<const double> targets) {
  RECLOOP_CHECK(targets.size() == context.size(),
                "softmax: learn() needs one target per candidate");
  for (std::size_t a = 0; a < context.size(); ++a) means_.add(context.items[a], targets[a]);
  ++version_;
}

std::unique_ptr<Policy> Softmax::clone() const { return std::make_unique<Softmax>(*this); }

void Softmax::save(ModelWriter& out) const {
  out.put_f64(config_.temperature);
  out.put_f64(config_.initial_value);
  out.put_u64(version_);
  means_.save(out);
}

std::unique_ptr<Policy> Softmax::load(ModelReader& in) {
  Config config;
  config.temperature = in.get_f64("softmax temperature");
  config.initial_value = in.get_f64("softmax initial_value");
  const std::uint64_t version = in.get_u64("softmax model version");
  std::unique_ptr<Softmax> policy;
  try {
    policy = std::make_unique<Softmax>(config);
  } catch (const std::invalid_argument& e) {
    throw Error(std::string("model data: ") + e.what());
  }
  policy->version_ = version;
  policy->means_ = ItemMeans::load(in);
  return policy;
}

}  // namespace recloop

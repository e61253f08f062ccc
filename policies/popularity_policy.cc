// SPDX-License-Identifier: Apache-2.0
#include "policies/popularity_policy.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "core/error.h"
#include "core/model_io.h"

namespace recloop {
namespace {

PopularityPolicy::Config validated(const PopularityPolicy::Config& config) {
  if (!(config.beta >= 0.0 && config.beta <= 50.0)) {
    throw std::invalid_argument("popularity: beta = " + std::to_string(config.beta) +
                                ", need [0, 50]");
  }
  if (config.popularity_row < 0) {
    throw std::invalid_argument("popularity: popularity_row = " +
                                std::to_string(config.popularity_row) + ", need >= 0");
  }
  return config;
}

}  // namespace

PopularityPolicy::Config PopularityPolicy::Config::from(ConfigSection& section) {
  Config config;
  config.beta = section.get_double("beta", config.beta, 0.0, 50.0,
                                   "exponent on popularity: P(a) ~ popularity_a^beta, 0 = uniform");
  config.popularity_row = section.get_int(
      "popularity_row", config.popularity_row, 0, 1'000'000,
      "item-feature row holding log(popularity) (population world: 0)");
  return config;
}

PopularityPolicy::PopularityPolicy() : PopularityPolicy(Config{}) {}

PopularityPolicy::PopularityPolicy(const Config& config) : config_(validated(config)) {}

std::vector<double> PopularityPolicy::probabilities(const Context& context) const {
  if (context.size() == 0) throw std::invalid_argument("popularity: a context with no candidate");
  const auto row = static_cast<Eigen::Index>(config_.popularity_row);
  if (row >= context.actions.rows()) {
    throw std::invalid_argument("popularity: popularity_row = " + std::to_string(row) +
                                " but the items have " + std::to_string(context.actions.rows()) +
                                " feature rows");
  }
  std::vector<double> pmf(context.size());
  double top = context.actions(row, 0);
  for (std::size_t a = 0; a < context.size(); ++a) {
    const double x = context.actions(row, static_cast<Eigen::Index>(a));
    if (!std::isfinite(x)) {
      throw std::invalid_argument("popularity: candidate " + std::to_string(a) +
                                  " has log-popularity " + std::to_string(x));
    }
    top = std::max(top, x);
  }
  // popularity^beta = exp(beta log popularity); shifting by the largest log
  // popularity leaves the ratios unchanged and keeps every weight <= 1.
  double total = 0.0;
  for (std::size_t a = 0; a < context.size(); ++a) {
    pmf[a] = std::exp(config_.beta * (context.actions(row, static_cast<Eigen::Index>(a)) - top));
    total += pmf[a];
  }
  for (double& p : pmf) p /= total;
  return pmf;
}

void PopularityPolicy::update(const Interaction& /*interaction*/) { ++version_; }

std::unique_ptr<Policy> PopularityPolicy::clone() const {
  return std::make_unique<PopularityPolicy>(*this);
}

void PopularityPolicy::save(ModelWriter& out) const {
  out.put_f64(config_.beta);
  out.put_i64(config_.popularity_row);
  out.put_u64(version_);
}

std::unique_ptr<Policy> PopularityPolicy::load(ModelReader& in) {
  Config config;
  config.beta = in.get_f64("popularity beta");
  config.popularity_row = in.get_i64("popularity popularity_row");
  const std::uint64_t version = in.get_u64("popularity model version");
  std::unique_ptr<PopularityPolicy> policy;
  try {
    policy = std::make_unique<PopularityPolicy>(config);
  } catch (const std::invalid_argument& e) {
    throw Error(std::string("model data: ") + e.what());
  }
  policy->version_ = version;
  return policy;
}

}  // namespace recloop

// SPDX-License-Identifier: Apache-2.0
#include "policies/linear_softmax.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/check.h"
#include "core/error.h"
#include "core/model_io.h"
#include "policies/softmax.h"

namespace recloop {
namespace {

const LinearSoftmax::Config& validated(const LinearSoftmax::Config& config, int feature_dim) {
  if (!(std::isfinite(config.temperature) && config.temperature > 0.0)) {
    throw std::invalid_argument("LinearSoftmax: temperature = " +
                                std::to_string(config.temperature) + ", need > 0");
  }
  if (!(std::isfinite(config.ridge) && config.ridge > 0.0)) {
    throw std::invalid_argument("LinearSoftmax: ridge = " + std::to_string(config.ridge) +
                                ", need > 0");
  }
  if (feature_dim < 1) {
    throw std::invalid_argument("LinearSoftmax: feature_dim = " + std::to_string(feature_dim) +
                                ", need >= 1");
  }
  return config;
}

void check_context(const Context& context, int feature_dim) {
  RECLOOP_CHECK(context.size() > 0, "a context needs at least one candidate");
  RECLOOP_CHECK(context.feature_dim() == feature_dim,
                "softmax_linear: context has feature_dim " +
                    std::to_string(context.feature_dim()) + ", policy expects " +
                    std::to_string(feature_dim));
  RECLOOP_CHECK(static_cast<std::size_t>(context.actions.cols()) == context.size(),
                "context has a different number of feature columns and items");
}

}  // namespace

LinearSoftmax::Config LinearSoftmax::Config::from(ConfigSection& section) {
  const Config defaults;
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  Config config;
  config.temperature = section.get_double(
      "temperature", defaults.temperature, 0.0, kInfinity,
      "Boltzmann temperature in reward units: large is uniform, small is greedy",
      /*min_exclusive=*/true);
  config.ridge = section.get_double("ridge", defaults.ridge, 0.0, kInfinity,
                                    "prior precision of each item's ridge regression",
                                    /*min_exclusive=*/true);
  return config;
}

LinearSoftmax::LinearSoftmax(const Config& config, int feature_dim)
    : config_(validated(config, feature_dim)), model_(feature_dim, config.ridge) {}

std::vector<double> LinearSoftmax::probabilities(const Context& context) const {
  check_context(context, feature_dim());
  std::vector<double> means(context.size());
  model_.means(context, means);
  // Sutton & Barto 2018, eq. 2.11 with preferences H(a) = x_a' theta_a / temperature
  // (Li et al. 2010, Alg. 1 line 8 for theta_a; an unseen item predicts 0).
  return softmax_pmf(means, config_.temperature);
}

void LinearSoftmax::update(const Interaction& interaction) {
  const Context& context = interaction.context;
  RECLOOP_CHECK(interaction.action < context.size(), "action outside the context");
  RECLOOP_CHECK(context.feature_dim() == feature_dim(),
                "softmax_linear: interaction has feature_dim " +
                    std::to_string(context.feature_dim()) + ", policy expects " +
                    std::to_string(feature_dim()));
  model_.update(context, interaction.action, interaction.reward);
  ++version_;
}

void LinearSoftmax::predict_rewards(const Context& context, std::span<double> out) const {
  check_context(context, feature_dim());
  RECLOOP_CHECK(out.size() == context.size(),
                "softmax_linear: predict_rewards() needs one output per candidate");
  model_.means(context, out);
}

void LinearSoftmax::learn(const Context& context, std::span<const double> targets) {
  check_context(context, feature_dim());
  RECLOOP_CHECK(targets.size() == context.size(),
                "softmax_linear: learn() needs one target per candidate");
  model_.update_all(context, targets);
  ++version_;
}

std::unique_ptr<Policy> LinearSoftmax::clone() const {
  return std::make_unique<LinearSoftmax>(*this);
}

void LinearSoftmax::save(ModelWriter& out) const {
  out.put_f64(config_.temperature);
  out.put_f64(config_.ridge);
  out.put_u64(version_);
  model_.save(out);
}

std::unique_ptr<Policy> LinearSoftmax::load(ModelReader& in) {
  Config config;
  config.temperature = in.get_f64("softmax_linear temperature");
  config.ridge = in.get_f64("softmax_linear ridge");
  const std::uint64_t version = in.get_u64("softmax_linear model version");
  DisjointRidge model = DisjointRidge::load(in, config.ridge, "softmax_linear");
  std::unique_ptr<LinearSoftmax> policy;
  try {
    policy = std::make_unique<LinearSoftmax>(config, model.dim());
  } catch (const std::invalid_argument& e) {
    throw Error(std::string("model data: ") + e.what());
  }
  policy->model_ = std::move(model);
  policy->version_ = version;
  return policy;
}

}  // namespace recloop

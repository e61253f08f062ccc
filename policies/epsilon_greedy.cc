// SPDX-License-Identifier: Apache-2.0
#include "policies/epsilon_greedy.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/check.h"
#include "core/error.h"
#include "core/model_io.h"
#include "policies/exploration.h"

namespace recloop {
namespace {

const EpsilonGreedy::Config& validated(const EpsilonGreedy::Config& config, int feature_dim) {
  if (!(config.epsilon >= 0.0 && config.epsilon <= 1.0)) {
    throw std::invalid_argument("EpsilonGreedy: epsilon = " + std::to_string(config.epsilon) +
                                ", need [0, 1]");
  }
  if (!(std::isfinite(config.ridge) && config.ridge > 0.0)) {
    throw std::invalid_argument("EpsilonGreedy: ridge = " + std::to_string(config.ridge) +
                                ", need > 0");
  }
  if (feature_dim < 1) {
    throw std::invalid_argument("EpsilonGreedy: feature_dim = " + std::to_string(feature_dim) +
                                ", need >= 1");
  }
  return config;
}

}  // namespace

EpsilonGreedy::Config EpsilonGreedy::Config::from(ConfigSection& section) {
  const Config defaults;
  Config config;
  config.epsilon = section.get_double("epsilon", defaults.epsilon, 0.0, 1.0,
                                      "probability of exploring uniformly");
  config.ridge = section.get_double("ridge", defaults.ridge, 0.0,
                                    std::numeric_limits<double>::infinity(),
                                    "prior precision of each item's ridge regression",
                                    /*min_exclusive=*/true);
  return config;
}

EpsilonGreedy::EpsilonGreedy(const Config& config, int feature_dim)
    : config_(validated(config, feature_dim)), model_(feature_dim, config.ridge) {}

std::vector<double> EpsilonGreedy::probabilities(const Context& context) const {
  RECLOOP_CHECK(context.size() > 0, "a context needs at least one candidate");
  RECLOOP_CHECK(context.feature_dim() == feature_dim(),
                "epsilon_greedy: context has feature_dim " + std::to_string(context.feature_dim()) +
                    ", policy expects " + std::to_string(feature_dim()));
  RECLOOP_CHECK(static_cast<std::size_t>(context.actions.cols()) == context.size(),
                "context has a different number of feature columns and items");
  std::vector<double> means(context.size());
  model_.means(context, means);
  return epsilon_greedy_pmf(means, config_.epsilon);
}

void EpsilonGreedy::update(const Interaction& interaction) {
  const Context& context = interaction.context;
  RECLOOP_CHECK(interaction.action < context.size(), "action outside the context");
  RECLOOP_CHECK(context.feature_dim() == feature_dim(),
                "epsilon_greedy: interaction has feature_dim " +
                    std::to_string(context.feature_dim()) + ", policy expects " +
                    std::to_string(feature_dim()));
  model_.update(context, interaction.action, interaction.reward);
  ++version_;
}

std::unique_ptr<Policy> EpsilonGreedy::clone() const {
  return std::make_unique<EpsilonGreedy>(*this);
}

void EpsilonGreedy::save(ModelWriter& out) const {
  out.put_f64(config_.epsilon);
  out.put_f64(config_.ridge);
  out.put_u64(version_);
  model_.save(out);
}

std::unique_ptr<Policy> EpsilonGreedy::load(ModelReader& in) {
  Config config;
  config.epsilon = in.get_f64("epsilon_greedy epsilon");
  config.ridge = in.get_f64("epsilon_greedy ridge");
  const std::uint64_t version = in.get_u64("epsilon_greedy model version");
  DisjointRidge model = DisjointRidge::load(in, config.ridge, "epsilon_greedy");
  std::unique_ptr<EpsilonGreedy> policy;
  try {
    policy = std::make_unique<EpsilonGreedy>(config, model.dim());
  } catch (const std::invalid_argument& e) {
    throw Error(std::string("model data: ") + e.what());
  }
  policy->model_ = std::move(model);
  policy->version_ = version;
  return policy;
}

void EpsilonGreedy::predict_rewards(const Context& context, std::span<double> out) const {
  RECLOOP_CHECK(out.size() == context.size() && context.feature_dim() == feature_dim(),
                "epsilon_greedy: predict_rewards() needs one output per candidate and feature_dim " +
                    std::to_string(feature_dim()));
  model_.means(context, out);
}

void EpsilonGreedy::learn(const Context& context, std::span<const double> targets) {
  RECLOOP_CHECK(targets.size() == context.size(), "epsilon_greedy: learn() needs one target per candidate");
  RECLOOP_CHECK(context.feature_dim() == feature_dim(),
                "epsilon_greedy: context has feature_dim " + std::to_string(context.feature_dim()) +
                    ", policy expects " + std::to_string(feature_dim()));
  model_.update_all(context, targets);
  ++version_;
}

}  // namespace recloop

// SPDX-License-Identifier: Apache-2.0
#include "policies/multi_armed_epsilon_greedy.h"

#include <algorithm>
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

const MultiArmedEpsilonGreedy::Config& validated(const MultiArmedEpsilonGreedy::Config& config) {
  if (!(config.epsilon >= 0.0 && config.epsilon <= 1.0)) {
    throw std::invalid_argument("MultiArmedEpsilonGreedy: epsilon = " +
                                std::to_string(config.epsilon) + ", need [0, 1]");
  }
  if (!std::isfinite(config.initial_value)) {
    throw std::invalid_argument("MultiArmedEpsilonGreedy: initial_value = " +
                                std::to_string(config.initial_value) + ", need a finite value");
  }
  return config;
}

}  // namespace

MultiArmedEpsilonGreedy::Config MultiArmedEpsilonGreedy::Config::from(ConfigSection& section) {
  const Config defaults;
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  Config config;
  config.epsilon = section.get_double("epsilon", defaults.epsilon, 0.0, 1.0,
                                      "probability of exploring uniformly");
  config.initial_value = section.get_double("initial_value", defaults.initial_value, -kInfinity,
                                            kInfinity,
                                            "value of an item never updated (optimistic if high)",
                                            /*min_exclusive=*/true);
  return config;
}

MultiArmedEpsilonGreedy::MultiArmedEpsilonGreedy(const Config& config)
    : config_(validated(config)) {}

std::vector<double> MultiArmedEpsilonGreedy::values(const Context& context) const {
  RECLOOP_CHECK(context.size() > 0, "a context needs at least one candidate");
  std::vector<double> values(context.size());
  for (std::size_t a = 0; a < context.size(); ++a) {
    // Sutton & Barto 2018, eq. 2.1: Q(a) = (sum of rewards of a) / (number of updates of a).
    values[a] = means_.mean(context.items[a], config_.initial_value);
  }
  return values;
}

std::vector<double> MultiArmedEpsilonGreedy::probabilities(const Context& context) const {
  // Sutton & Barto 2018, sec. 2.2: greedy with probability 1 - epsilon,
  // uniform with probability epsilon; exact ties share the greedy mass.
  return epsilon_greedy_pmf(values(context), config_.epsilon);
}

void MultiArmedEpsilonGreedy::update(const Interaction& interaction) {
  RECLOOP_CHECK(interaction.action < interaction.context.size(), "action outside the context");
  means_.add(interaction.context.items[interaction.action], interaction.reward);
  ++version_;
}

void MultiArmedEpsilonGreedy::predict_rewards(const Context& context, std::span<double> out) const {
  RECLOOP_CHECK(out.size() == context.size(),
                "epsilon_greedy_mab: predict_rewards() needs one output per candidate");
  const auto v = values(context);
  std::copy(v.begin(), v.end(), out.begin());
}

void MultiArmedEpsilonGreedy::learn(const Context& context, std::span<const double> targets) {
  RECLOOP_CHECK(targets.size() == context.size(),
                "epsilon_greedy_mab: learn() needs one target per candidate");
  for (std::size_t a = 0; a < context.size(); ++a) means_.add(context.items[a], targets[a]);
  ++version_;
}

std::unique_ptr<Policy> MultiArmedEpsilonGreedy::clone() const {
  return std::make_unique<MultiArmedEpsilonGreedy>(*this);
}

void MultiArmedEpsilonGreedy::save(ModelWriter& out) const {
  out.put_f64(config_.epsilon);
  out.put_f64(config_.initial_value);
  out.put_u64(version_);
  means_.save(out);
}

std::unique_ptr<Policy> MultiArmedEpsilonGreedy::load(ModelReader& in) {
  Config config;
  config.epsilon = in.get_f64("epsilon_greedy_mab epsilon");
  config.initial_value = in.get_f64("epsilon_greedy_mab initial_value");
  const std::uint64_t version = in.get_u64("epsilon_greedy_mab model version");
  std::unique_ptr<MultiArmedEpsilonGreedy> policy;
  try {
    policy = std::make_unique<MultiArmedEpsilonGreedy>(config);
  } catch (const std::invalid_argument& e) {
    throw Error(std::string("model data: ") + e.what());
  }
  policy->version_ = version;
  policy->means_ = ItemMeans::load(in);
  return policy;
}

}  // namespace recloop

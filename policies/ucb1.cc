// SPDX-License-Identifier: Apache-2.0
#include "policies/ucb1.h"

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

const Ucb1::Config& validated(const Ucb1::Config& config) {
  if (!(std::isfinite(config.c) && config.c >= 0.0)) {
    throw std::invalid_argument("Ucb1: c = " + std::to_string(config.c) + ", need >= 0");
  }
  return config;
}

}  // namespace

Ucb1::Config Ucb1::Config::from(ConfigSection& section) {
  const Config defaults;
  Config config;
  config.c = section.get_double("c", defaults.c, 0.0, std::numeric_limits<double>::infinity(),
                                "exploration constant c of the bonus sqrt(c ln N / n); 2 is UCB1");
  return config;
}

Ucb1::Ucb1(const Config& config) : config_(validated(config)) {}

std::vector<double> Ucb1::indices(const Context& context) const {
  RECLOOP_CHECK(context.size() > 0, "a context needs at least one candidate");
  // N >= n_a >= 1 whenever a has been played, so ln N >= 0.
  const double log_n = std::log(static_cast<double>(means_.total_count()));
  std::vector<double> index(context.size());
  for (std::size_t a = 0; a < context.size(); ++a) {
    const auto stats = means_.stats(context.items[a]);
    if (stats.count == 0) {
      // Auer et al. 2002, fig. 1, "Initialization: play each machine once".
      index[a] = std::numeric_limits<double>::infinity();
      continue;
    }
    const double n = static_cast<double>(stats.count);
    // Fig. 1, loop: play the j maximising mean_j + sqrt(2 ln n / n_j); c = 2 there.
    index[a] = stats.sum / n + std::sqrt(config_.c * log_n / n);
  }
  return index;
}

std::vector<double> Ucb1::probabilities(const Context& context) const {
  const auto index = indices(context);
  // Candidates never played come first, shared equally (the paper plays them
  // in a fixed order; the pmf stays a function of the model alone this way).
  std::size_t unplayed = 0;
  for (double i : index) unplayed += std::isinf(i);
  if (unplayed > 0) {
    std::vector<double> pmf(index.size(), 0.0);
    for (std::size_t a = 0; a < index.size(); ++a) {
      if (std::isinf(index[a])) pmf[a] = 1.0 / static_cast<double>(unplayed);
    }
    return pmf;
  }
  // The argmax of the index; the paper breaks ties arbitrarily, we share the mass.
  return epsilon_greedy_pmf(index, 0.0);
}

void Ucb1::update(const Interaction& interaction) {
  RECLOOP_CHECK(interaction.action < interaction.context.size(), "action outside the context");
  means_.add(interaction.context.items[interaction.action], interaction.reward);
  ++version_;
}

std::unique_ptr<Policy> Ucb1::clone() const { return std::make_unique<Ucb1>(*this); }

void Ucb1::save(ModelWriter& out) const {
  out.put_f64(config_.c);
  out.put_u64(version_);
  means_.save(out);
}

std::unique_ptr<Policy> Ucb1::load(ModelReader& in) {
  Config config;
  config.c = in.get_f64("ucb1 c");
  const std::uint64_t version = in.get_u64("ucb1 model version");
  std::unique_ptr<Ucb1> policy;
  try {
    policy = std::make_unique<Ucb1>(config);
  } catch (const std::invalid_argument& e) {
    throw Error(std::string("model data: ") + e.what());
  }
  policy->version_ = version;
  policy->means_ = ItemMeans::load(in);
  // Every update() adds exactly one observation, and nothing else changes either.
  if (policy->means_.total_count() != version) {
    throw Error("model data: ucb1 model version " + std::to_string(version) + " but " +
                std::to_string(policy->means_.total_count()) + " observations");
  }
  return policy;
}

}  // namespace recloop

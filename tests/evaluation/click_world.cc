// SPDX-License-Identifier: Apache-2.0
#include "tests/evaluation/click_world.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "core/sampling.h"

namespace recloop::testing {
namespace {

// base + slope·u with u ∈ [0,1]^3: the minimum is base + Σ min(slope, 0) and
// the maximum base + Σ max(slope, 0); every item stays within [0.05, 0.85].
constexpr double kBase[ClickWorld::kCatalogue] = {0.05, 0.10, 0.15, 0.20, 0.25, 0.30};
constexpr double kSlope[ClickWorld::kCatalogue][ClickWorld::kUserDim] = {
    {0.50, 0.00, 0.00},   // [0.05, 0.55]
    {0.00, 0.60, 0.00},   // [0.10, 0.70]
    {0.00, 0.00, 0.70},   // [0.15, 0.85]
    {0.20, 0.20, 0.00},   // [0.20, 0.60]
    {0.00, -0.10, 0.30},  // [0.15, 0.55]
    {-0.25, 0.10, 0.30},  // [0.05, 0.70]
};

int catalogue_index(ItemId item) { return static_cast<int>(item - ClickWorld::kFirstItem); }

}  // namespace

Context ClickWorld::next_context(Rng& rng) const {
  Context context;
  context.user.resize(kUserDim);
  for (int i = 0; i < kUserDim; ++i) context.user[i] = uniform01(rng);
  // Partial Fisher–Yates shuffle of the catalogue: kCandidates distinct items.
  std::vector<int> catalogue(kCatalogue);
  std::iota(catalogue.begin(), catalogue.end(), 0);
  for (int i = 0; i < kCandidates; ++i) {
    const auto j = i + static_cast<int>(uniform_index(rng, kCatalogue - i));
    std::swap(catalogue[i], catalogue[j]);
  }
  context.actions.resize(kItemDim, kCandidates);
  for (int a = 0; a < kCandidates; ++a) {
    const int item = catalogue[a];
    context.items.push_back(kFirstItem + static_cast<ItemId>(item));
    context.actions(0, a) = std::cos(item);
    context.actions(1, a) = std::sin(item);
  }
  return context;
}

double ClickWorld::expected_reward(const Context& context, ActionId action) const {
  const int item = catalogue_index(context.items[action]);
  double q = kBase[item];
  for (int i = 0; i < kUserDim; ++i) q += kSlope[item][i] * context.user[i];
  return q;
}

std::vector<double> ClickWorld::truth(const Context& context) const {
  std::vector<double> values(context.size());
  for (ActionId a = 0; a < context.size(); ++a) values[a] = expected_reward(context, a);
  return values;
}

std::vector<double> uniform_pmf(const Context& context) {
  return std::vector<double>(context.size(), 1.0 / static_cast<double>(context.size()));
}

PmfFunction softmax_on_truth(const ClickWorld& world, double beta) {
  return [world, beta](const Context& context) {
    std::vector<double> pmf = world.truth(context);
    const double top = beta >= 0 ? *std::max_element(pmf.begin(), pmf.end())
                                 : *std::min_element(pmf.begin(), pmf.end());
    double total = 0.0;
    for (double& p : pmf) total += (p = std::exp(beta * (p - top)));
    for (double& p : pmf) p /= total;
    return pmf;
  };
}

PmfFunction greedy_on_truth(const ClickWorld& world) {
  return [world](const Context& context) {
    const std::vector<double> values = world.truth(context);
    const double best = *std::max_element(values.begin(), values.end());
    std::vector<double> pmf(values.size(), 0.0);
    const auto ties = std::count(values.begin(), values.end(), best);
    for (std::size_t a = 0; a < values.size(); ++a) {
      if (values[a] == best) pmf[a] = 1.0 / static_cast<double>(ties);
    }
    return pmf;
  };
}

std::vector<Interaction> draw_log(const ClickWorld& world, const PmfFunction& logging, int n,
                                  std::uint64_t seed) {
  Rng rng(seed);
  std::vector<Interaction> log;
  log.reserve(n);
  for (int i = 0; i < n; ++i) {
    Interaction interaction;
    interaction.event_id = 'e' + std::to_string(i);
    interaction.context = world.next_context(rng);
    const std::vector<double> pmf = logging(interaction.context);
    interaction.action = static_cast<ActionId>(sample_index(pmf, uniform01(rng)));
    interaction.probability = pmf[interaction.action];
    interaction.truth = world.truth(interaction.context);
    interaction.reward = bernoulli(rng, interaction.truth[interaction.action]);
    interaction.policy = "test_logger";
    log.push_back(std::move(interaction));
  }
  return log;
}

Interaction hand_interaction(double probability, double reward, std::size_t candidates,
                             ActionId action, const EventId& event_id) {
  Interaction i;
  i.event_id = event_id;
  i.context.user = Eigen::VectorXd::Zero(1);
  i.context.actions = Eigen::MatrixXd::Zero(1, static_cast<Eigen::Index>(candidates));
  for (std::size_t a = 0; a < candidates; ++a) i.context.items.push_back(a);
  i.action = action;
  i.probability = probability;
  i.reward = reward;
  return i;
}

}  // namespace recloop::testing

// SPDX-License-Identifier: Apache-2.0
#include "tests/evaluation/click_world_logs.h"

#include <string>
#include <utility>

#include "core/rng.h"
#include "core/sampling.h"
#include "evaluation/true_value.h"
#include "policies/epsilon_greedy.h"
#include "policies/linear_softmax.h"
#include "policies/softmax.h"

namespace recloop::testing {
namespace {

std::vector<double> exact_rewards(const LinearClickWorld& world, const Context& context) {
  std::vector<double> truth(context.size());
  for (ActionId a = 0; a < context.size(); ++a) truth[a] = world.expected_reward(context, a);
  return truth;
}

}  // namespace

std::vector<Interaction> log_frozen_policy(LinearClickWorld& world, const Policy& logger, int n,
                                           std::uint64_t seed) {
  Rng rng(seed);
  std::vector<Interaction> log;
  log.reserve(static_cast<std::size_t>(n));
  for (int t = 0; t < n; ++t) {
    Interaction i;
    i.event_id = 'e' + std::to_string(t);
    i.context = world.next_context(rng);
    const Decision decision = logger.choose(i.context, i.event_id, seed);
    i.action = decision.action;
    i.probability = decision.probability;
    i.reward = world.draw_reward(i.context, i.action, rng);
    i.truth = exact_rewards(world, i.context);
    i.policy = std::string(logger.name());
    log.push_back(std::move(i));
  }
  return log;
}

void train_on_uniform_log(LinearClickWorld& world, Policy& policy, int n, std::uint64_t seed) {
  Rng rng(seed);
  for (int t = 0; t < n; ++t) {
    Interaction i;
    i.event_id = 't' + std::to_string(t);
    i.context = world.next_context(rng);
    i.action = static_cast<ActionId>(uniform_index(rng, i.context.size()));
    i.probability = 1.0 / static_cast<double>(i.context.size());
    i.reward = world.draw_reward(i.context, i.action, rng);
    policy.update(i);
  }
}

double population_value(LinearClickWorld& world, const Policy& target, int contexts,
                        std::uint64_t seed) {
  Rng rng(seed);
  double total = 0.0;
  for (int k = 0; k < contexts; ++k) {
    const Context context = world.next_context(rng);
    total += expected_value(target.probabilities(context), exact_rewards(world, context));
  }
  return total / contexts;
}

double same_context_value(const std::vector<Interaction>& log, const Policy& target) {
  TrueValueAccumulator truth;
  for (const auto& i : log) truth.add(i, target.probabilities(i.context));
  return truth.value().value();
}

BiasedLogExperiment make_biased_log_experiment() {
  BiasedLogExperiment e;
  const int dim = e.world.feature_dim();
  auto target = std::make_unique<LinearSoftmax>(LinearSoftmax::Config{.temperature = 0.1}, dim);
  train_on_uniform_log(e.world, *target, 20000, 101);
  e.target = std::move(target);

  auto item_means = std::make_unique<Softmax>(Softmax::Config{.temperature = 0.1});
  train_on_uniform_log(e.world, *item_means, 5000, 102);
  e.loggers.push_back({"softmax on item means", std::move(item_means)});

  auto greedy = std::make_unique<EpsilonGreedy>(EpsilonGreedy::Config{.epsilon = 0.05}, dim);
  train_on_uniform_log(e.world, *greedy, 1000, 103);
  e.loggers.push_back({"epsilon-greedy 0.05", std::move(greedy)});
  return e;
}

}  // namespace recloop::testing

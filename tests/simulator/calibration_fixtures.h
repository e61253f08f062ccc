// SPDX-License-Identifier: Apache-2.0
// Ranking logs with known truth for the calibration tests: a population
// world with a linear choice model, logged by the production ranker
// (popularity prior plus the users' noisy affinity, epsilon-greedy), one
// Interaction per slot as a ranker logs it (policies/ranker.h).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "core/types.h"
#include "policies/production_ranker.h"
#include "simulator/choice_model.h"
#include "simulator/population_world.h"

namespace recloop::testing {

struct CalibrationLogSpec {
  std::uint64_t requests = 40000;
  std::size_t slots = 4;
  double epsilon = 0.2;             // the ranker's per-slot exploration
  double ranker_popularity = 3.0;   // weight of log popularity in the ranker's score
  std::uint64_t run_seed = 11;      // the ranker's decision seed
};

inline PopulationWorld::Config calibration_world(ChoiceModelKind kind, double eta) {
  PopulationWorld::Config config;
  config.n_items = 40;
  config.candidates = 8;
  config.n_users = 2000;
  config.zipf_exponent = 1.0;
  config.popularity_weight = 0.5;
  config.bias_mean = -1.0;
  config.bias_sd = 0.5;
  config.choice.kind = kind;
  config.choice.position_decay = eta;
  config.seed = 5;
  return config;
}

// Calls fn(interaction) for every slot of spec.requests rankings.
template <class Fn>
void generate_calibration_log(const PopulationWorld& world, const CalibrationLogSpec& spec, Fn&& fn) {
  PopulationWorld::Worker worker(world);
  PopulationWorld::Request request;
  PopulationWorld::SlateOutcome outcome;
  const auto ranker = make_production_ranker(
      {.popularity_weight = spec.ranker_popularity, .affinity_weight = 1.0,
       .affinity_dims = world.config().latent_dim},
      spec.epsilon);
  Interaction row;
  for (std::uint64_t t = 0; t < spec.requests; ++t) {
    CounterRng rng = worker.draw(t, request);
    std::string id = "r";
    id += std::to_string(t);
    const Ranking ranking = ranker->rank(request.context, spec.slots, id, spec.run_seed);
    world.draw_outcome(request, ranking.actions, rng, outcome);
    row.context = request.context;
    for (std::size_t k = 0; k < spec.slots; ++k) {
      row.event_id = ranking.slot_event_id(k);
      row.action = ranking.actions[k];
      row.slot = static_cast<std::uint32_t>(k);
      row.probability = ranking.marginal[k];
      row.conditional = ranking.conditional[k];
      row.reward = outcome.rewards[k];
      row.policy = ranking.policy;
      fn(row);
    }
  }
}

// The true attractiveness of every item: the population mean of sigmoid(x_ui)
// (users are drawn uniformly and independently of the candidates).
inline std::unordered_map<ItemId, double> true_attractiveness(const PopulationWorld& world) {
  std::unordered_map<ItemId, double> truth;
  const auto n_users = static_cast<std::uint32_t>(world.config().n_users);
  for (std::uint32_t s = 0; s < static_cast<std::uint32_t>(world.config().n_items); ++s) {
    const ItemId id = world.live_item(s, 0);
    double total = 0.0;
    for (std::uint32_t u = 0; u < n_users; ++u) total += attractiveness(world.logit(u, id));
    truth[id] = total / n_users;
  }
  return truth;
}

}  // namespace recloop::testing

// SPDX-License-Identifier: Apache-2.0
// Logs of the linear click world (simulator/linear_click_world.h) made in
// memory by real policies, for checking the off-policy estimators against the
// world's exact truth. One fixed experiment, shared by the statistical tests
// and the coverage sweep:
//   world    LinearClickWorld with its default config: 100 items, 10
//            candidates per request, latent dimension 6 (12 joint features)
//   target   softmax_linear (temperature 0.1): per-item ridge regressions on
//            the joint features, trained on 20,000 uniformly logged requests
//   loggers  two deliberately biased policies, both with full support:
//            "softmax on item means"  the non-contextual softmax (temperature
//              0.1) over each item's mean click rate, trained on 5,000 uniform
//              requests: a misspecified model that never looks at the user, so
//              it favours items that are good on average, not for this user
//            "epsilon-greedy 0.05"  epsilon_greedy (epsilon 0.05) over per-item
//              ridge regressions trained on only 1,000 uniform requests (about
//              10 per item): greedy on a poor model, and each other candidate
//              gets only 0.05 / 10 = 0.005
// Every policy is frozen once trained (probabilities() only), so a log's
// actions are independent given the contexts.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/types.h"
#include "policies/policy.h"
#include "simulator/linear_click_world.h"

namespace recloop::testing {

// `n` requests of `world`, each served by `logger` (never updated) through
// Policy::choose, with a drawn click as the reward and the world's exact
// expected reward of every candidate in Interaction::truth. Contexts and
// clicks come from Rng(seed), decisions from the run seed `seed`, so the same
// seed and policy give the same log. Event ids are "e<index>".
std::vector<Interaction> log_frozen_policy(LinearClickWorld& world, const Policy& logger, int n,
                                           std::uint64_t seed);

// Updates `policy` once per request of an `n`-request uniformly logged run of
// `world` (contexts and actions from Rng(seed)).
void train_on_uniform_log(LinearClickWorld& world, Policy& policy, int n, std::uint64_t seed);

// The target's population value V = E_x[Σ_a π(a|x) q(x, a)], by Monte Carlo
// over `contexts` fresh contexts from Rng(seed) with the exact q (no reward
// noise): its error is sd_x(V(x)) / sqrt(contexts).
double population_value(LinearClickWorld& world, const Policy& target, int contexts,
                        std::uint64_t seed);

// The exact value on the logged contexts: the mean over `log` of
// Σ_a π(a|x_i) truth_i[a].
double same_context_value(const std::vector<Interaction>& log, const Policy& target);

struct NamedPolicy {
  std::string name;
  std::unique_ptr<Policy> policy;
};

// The experiment described at the top of this file, trained from fixed seeds.
struct BiasedLogExperiment {
  LinearClickWorld world{LinearClickWorld::Config{}};
  std::unique_ptr<Policy> target;
  std::vector<NamedPolicy> loggers;
};
BiasedLogExperiment make_biased_log_experiment();

}  // namespace recloop::testing

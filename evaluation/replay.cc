// SPDX-License-Identifier: Apache-2.0
#include "evaluation/replay.h"

#include "core/rng.h"
#include "core/sampling.h"
#include "evaluation/importance_weight.h"

namespace recloop {

ReplayEstimator::ReplayEstimator() : ReplayEstimator(Config{}) {}

void ReplayEstimator::add(const Interaction& logged, std::span<const double> target_pmf) {
  check_logged(logged, target_pmf);
  ++seen_;
  // Li, Chu, Langford & Wang 2011, "Unbiased offline evaluation of
  // contextual-bandit-based news article recommendation algorithms" (WSDM),
  // Alg. 1: an event counts when the replayed policy picks the logged arm.
  // Under a uniform logger, the accepted events are distributed as if the
  // target had been run, so their mean reward estimates V(target). The draw
  // uses the decision seed of the event id (core/rng.h), as choose() does.
  const std::size_t replayed =
      sample_index(target_pmf, decision_seed(config_.seed, logged.event_id));
  if (replayed == logged.action) accepted_.add(logged.reward);
}

Estimate ReplayEstimator::estimate(double alpha) const { return mean_estimate(accepted_, alpha); }

}  // namespace recloop

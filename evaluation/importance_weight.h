// SPDX-License-Identifier: Apache-2.0
// The importance weight π(a|x)/μ(a|x) of a logged action, and the checks every
// estimator applies to its input first. A bad log is never silently dropped:
// an interaction that cannot be weighted is an error, reported with its event id.
#pragma once

#include <span>

#include "core/types.h"

namespace recloop {

// Throws std::invalid_argument naming logged.event_id unless: the logged
// action indexes a candidate of logged.context; the logged probability is
// finite and in (0, 1]; the reward is finite; and target_pmf has one entry
// per candidate, each finite and in [0, 1], summing to 1 within 1e-6.
void check_logged(const Interaction& logged, std::span<const double> target_pmf);

// π(a|x)/μ(a|x) = target_pmf[logged.action] / logged.probability.
// Precondition: check_logged(logged, target_pmf) passed.
inline double importance_weight(const Interaction& logged, std::span<const double> target_pmf) {
  return target_pmf[logged.action] / logged.probability;
}

}  // namespace recloop

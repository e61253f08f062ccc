// SPDX-License-Identifier: Apache-2.0
// The learning half of a policy that is built on a reward regression: it
// predicts every candidate's reward and can be taught a reward target for
// every candidate of a context at once. This is what off-policy learning needs
// (off_policy_trainer.h): the reduction of contextual-bandit learning to
// regression on importance-weighted (IPS) or doubly robust (DR) reward
// estimates of all candidates (Dudik, Langford & Li 2011, ICML; Bietti,
// Agarwal & Langford 2021, JMLR, "A contextual bandit bake-off", sec. 3).
// Policy::update() is the special case of one observed candidate.
// A policy implements it beside Policy; thread safety as its update().
#pragma once

#include <span>

#include "core/types.h"

namespace recloop {

class RegressionLearner {
 public:
  virtual ~RegressionLearner() = default;

  // The model's current estimate of E[reward | context, a] for every
  // candidate, in candidate order (out.size() == context.size()).
  virtual void predict_rewards(const Context& context, std::span<double> out) const = 0;

  // One learning step that regresses targets[a] on candidate a, for every
  // candidate of `context` (targets.size() == context.size(), all finite).
  // Counts as one update: model_version() grows by 1.
  virtual void learn(const Context& context, std::span<const double> targets) = 0;
};

}  // namespace recloop

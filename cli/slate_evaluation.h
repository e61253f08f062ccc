// SPDX-License-Identifier: Apache-2.0
// Off-policy evaluation of a target ranker from a log of rankings:
//   recloop evaluate --log FILE --target RANKER:BASE --slots L [options]
// (run_evaluate hands every call with --slots to run_slate_evaluate). The log
// holds one decision per slot ("<id>/<k>", logging/slate_log.h); the target's
// marginals and its conditionals of each logged prefix are computed here,
// and every slate estimator of evaluation/slate_registry.h scores the value
// of a ranking = the sum of its first L slots' rewards.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "evaluation/estimator.h"
#include "evaluation/slate.h"
#include "logging/slate_log.h"
#include "policies/ranker.h"

namespace recloop {

// The estimator input for the first `slots` slots of `logged` under `target`:
// the logged marginals and conditionals, target_marginal = target.marginals(
// context, slots)(a_k, k) and target_conditional = target.conditionals(context,
// a_0 .. a_{slots-1})[k]. Throws std::invalid_argument naming the ranking if it
// has fewer than `slots` slots or the target cannot rank its request.
SlateInteraction slate_interaction(const LoggedSlate& logged, const Ranker& target,
                                   std::size_t slots);

struct SlateEvaluation {
  std::size_t n = 0;   // rankings scored
  Estimate naive;      // mean of the logged rankings' rewards (the logger's value)
  std::vector<std::pair<std::string, Estimate>> estimates;  // in the order asked for
  // Estimators left out, with the reason (conditionals not logged).
  std::vector<std::pair<std::string, std::string>> skipped;
  // Whole-ranking weights prod_k pi(.|.)/mu(.|.) (when the conditionals are
  // known): Kish's effective sample size (sum w)^2 / sum w^2 and the largest.
  double effective_sample_size = 0.0;
  double max_weight = 0.0;
};

// Scores `target` on every ranking in `log` over its first `slots` slots with
// the named slate estimators (ConfigError for an unknown name). Estimators
// that need the logged conditionals are skipped, with the reason, when any
// ranking lacks them. Throws as slate_interaction() does.
SlateEvaluation evaluate_slates(const std::vector<LoggedSlate>& log, const Ranker& target,
                                std::size_t slots, const std::vector<std::string>& estimators,
                                double alpha = 0.05);

// The `recloop evaluate --slots L` verb: parses `args`, prints a table (or
// JSON with --json), returns the exit status.
int run_slate_evaluate(const std::vector<std::string>& args);

}  // namespace recloop

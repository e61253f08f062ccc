// SPDX-License-Identifier: Apache-2.0
// Glue shared by `simulate` and `evaluate`: score a target policy on logged
// interactions with the chosen estimators, and compute its exact value when
// the log carries the simulator's truth.
#pragma once

#include <string>
#include <vector>

#include "core/types.h"
#include "evaluation/estimator.h"
#include "policies/policy.h"

namespace recloop {

struct OfflineEvaluation {
  std::string target;
  std::size_t n = 0;
  bool has_truth = false;      // every interaction carried the exact expected rewards
  double exact_value = 0.0;    // mean over logged contexts of sum_a pi(a|x) E[r|x,a]
  Estimate naive;              // plain mean of logged rewards: what ignoring the bias gives
  std::vector<std::pair<std::string, Estimate>> estimates;  // by estimator name, in order asked
};

// The reward model DM and DR use is a ridge regression fit on the same log.
// Throws ConfigError for an unknown estimator name, Error for an empty log.
OfflineEvaluation evaluate_offline(const std::vector<Interaction>& log, const Policy& target,
                                   const std::vector<std::string>& estimators, double alpha = 0.05);

}  // namespace recloop

// SPDX-License-Identifier: Apache-2.0
// The three per-interaction quantities every doubly robust variant combines:
// the direct method's value Σ_a π(a|x) r̂(x, a), the importance weight
// w = π(a_logged|x)/μ(a_logged|x), and the model's residual r - r̂(x, a_logged)
// on the logged action. DR, SNDR, Switch-DR and DRos differ only in what they
// do with the weight.
#pragma once

#include <span>

#include "core/types.h"
#include "evaluation/estimator.h"
#include "evaluation/importance_weight.h"

namespace recloop {

struct DrTerms {
  double direct = 0.0;    // Σ_a π(a|x) r̂(x, a)
  double weight = 0.0;    // π(a_logged|x) / μ(a_logged|x)
  double residual = 0.0;  // r - r̂(x, a_logged); 0 (not computed) when weight == 0
};

// Calls check_logged() first (std::invalid_argument naming the event on a
// malformed interaction). The model is called once per action with π(a|x) > 0.
DrTerms dr_terms(const RewardModel& model, const Interaction& logged,
                 std::span<const double> target_pmf);

// As above with r̂ supplied per action by `predict(a)`, for models that need
// the row's identity (cross-fitting).
template <typename Predict>
DrTerms dr_terms_with(const Predict& predict, const Interaction& logged,
                      std::span<const double> target_pmf) {
  check_logged(logged, target_pmf);
  // Dudík, Langford & Li 2011, eq. 2, for a stochastic target: the direct part
  // and, for the correction, r̂ of the logged action, which is needed only
  // when its weight is non-zero, i.e. exactly when the loop computes it.
  DrTerms terms;
  for (ActionId a = 0; a < target_pmf.size(); ++a) {
    if (target_pmf[a] == 0.0) continue;
    const double prediction = predict(a);
    terms.direct += target_pmf[a] * prediction;
    if (a == logged.action) terms.residual = logged.reward - prediction;
  }
  terms.weight = importance_weight(logged, target_pmf);
  return terms;
}

}  // namespace recloop

// SPDX-License-Identifier: Apache-2.0
// Glue shared by `simulate` and `evaluate`: score a target policy on logged
// interactions with the chosen estimators, with the importance-weight
// diagnostics of evaluation/diagnostics.h, and compute its exact value when
// the log carries the simulator's truth.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "core/types.h"
#include "evaluation/diagnostics.h"
#include "evaluation/estimator.h"
#include "policies/policy.h"

namespace recloop {

// Beside each estimate's normal interval, for the estimators whose value is a
// ratio Σa_i/Σb_i of per-row terms (naive, ips, snips, dm, dr, dr_cross_fit;
// NaN for the others):
//   bootstrap   the Poisson-bootstrap percentile interval (evaluation/bootstrap.h)
//               with `replicates` replicates drawn from `seed`; bit-identical for
//               any order of the log's rows
//   safe_lower  the empirical-Bernstein lower bound on the value at level
//               1 - alpha (Maurer & Pontil 2009), for the mean-form estimators
//               (not snips). The terms' range is the observed one, widened to
//               include 0: a plug-in, valid when no row could exceed what the
//               log shows (for IPS, the largest weight times the largest reward).
struct BootstrapOptions {
  std::size_t replicates = 0;  // B; 0 = no bootstrap and no lower bound
  std::uint64_t seed = 0;
};

struct EstimateBounds {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  double bootstrap_lower = kNaN;
  double bootstrap_upper = kNaN;
  double bootstrap_std_error = kNaN;
  double safe_lower = kNaN;
};

struct OfflineEvaluation {
  std::string target;
  std::size_t n = 0;
  bool has_truth = false;      // every interaction carried the exact expected rewards
  double exact_value = 0.0;    // mean over logged contexts of sum_a pi(a|x) E[r|x,a]
  Estimate naive;              // plain mean of logged rewards: what ignoring the bias gives
  std::vector<std::pair<std::string, Estimate>> estimates;  // by estimator name, in order asked
  std::vector<EstimateBounds> bounds;  // one per entry of `estimates`; empty without a bootstrap
  WeightReport weights;               // diagnostics of the importance weights π/μ
  std::vector<std::string> warnings;  // plain-language, empty when nothing is suspicious
};

// The target's pmf over an interaction's candidates (one entry per candidate).
// A function of the whole interaction, not just the context, so that a fixed
// table can answer per slot.
using TargetPmf = std::function<std::vector<double>(const Interaction&)>;

// Which reward model DM and DR use, fit on the same log:
//   ridge    ridge regression on the joint (user, item) features
//   tabular  the mean logged reward per item (for categorical logs)
enum class RewardModelKind { ridge, tabular };

// Before estimating, every interaction is checked: a logged probability
// outside (0, 1] or a non-finite reward throws recloop::Error giving the count
// and naming the first event ids; a target pmf that does not fit its context
// throws from the target or the estimators, naming the event. Nothing is
// skipped. Throws ConfigError for an unknown estimator name, Error for an
// empty log. Every sum is exact (evaluation/exact_sum.h), so the result does
// not depend on the order of `log` as long as the reward model's fit does not
// (the tabular model's does not; ridge sums its Gram matrix in row order).
OfflineEvaluation evaluate_offline(const std::vector<Interaction>& log, const TargetPmf& target,
                                   const std::string& target_name,
                                   const std::vector<std::string>& estimators, double alpha = 0.05,
                                   RewardModelKind reward_model = RewardModelKind::ridge,
                                   const BootstrapOptions& bootstrap = {});

// The same for a policy: target(i) = policy.probabilities(i.context).
OfflineEvaluation evaluate_offline(const std::vector<Interaction>& log, const Policy& target,
                                   const std::vector<std::string>& estimators, double alpha = 0.05);

}  // namespace recloop

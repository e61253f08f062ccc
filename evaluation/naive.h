// SPDX-License-Identifier: Apache-2.0
// The plain mean of the logged rewards. It ignores the target and so estimates
// the *logging* policy's value: compared with the other estimators it shows how
// large the selection bias of a log is. Not thread-safe.
#pragma once

#include <span>
#include <string_view>

#include "evaluation/estimator.h"
#include "evaluation/exact_sum.h"
#include "evaluation/statistics.h"

namespace recloop {

class NaiveEstimator final : public Estimator {
 public:
  // Validates like every estimator (a malformed log is an error even here) and
  // throws std::invalid_argument naming the event; target_pmf is otherwise unused.
  void add(const Interaction& logged, std::span<const double> target_pmf) override;
  Estimate estimate(double alpha = 0.05) const override;
  std::string_view name() const override { return "naive"; }

 private:
  ExactMoments rewards_;  // exact sums: the estimate does not depend on row order
};

}  // namespace recloop

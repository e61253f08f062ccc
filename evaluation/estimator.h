// SPDX-License-Identifier: Apache-2.0
// The Estimator seam: estimates a target policy's value (expected reward per
// request) from interactions logged by another policy. Streaming: add() one
// interaction at a time, estimate() at any time. Estimators take interactions,
// not a log, so the same code reads a SQLite log, a public dataset or a
// simulation in memory. Not thread-safe.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "core/types.h"

namespace recloop {

struct Estimate {
  double value = 0.0;      // point estimate of V(target)
  double std_error = 0.0;  // estimated standard error of `value`
  double lower = 0.0;      // two-sided (1 - alpha) confidence interval
  double upper = 0.0;
  std::size_t n = 0;       // interactions seen
};

class Estimator {
 public:
  virtual ~Estimator() = default;
  // `target_pmf` is the target policy's pmf over logged.context's candidates.
  virtual void add(const Interaction& logged, std::span<const double> target_pmf) = 0;
  // Requires at least two interactions for a finite standard error.
  virtual Estimate estimate(double alpha = 0.05) const = 0;
  virtual std::string_view name() const = 0;
};

// Predicts E[reward | context, action]: the model DM and DR rely on.
class RewardModel {
 public:
  virtual ~RewardModel() = default;
  virtual double predict(const Context& context, ActionId action) const = 0;
};

}  // namespace recloop

// SPDX-License-Identifier: Apache-2.0
// The exact value of a target policy, computed from the ground truth a
// simulator records with each decision (Interaction::truth). Averaged over the
// logged contexts it is "the exact value on the same contexts": what every
// estimator would report with unlimited rewards per context, and the yardstick
// the estimators are judged against.
#pragma once

#include <cstddef>
#include <optional>
#include <span>

#include "core/types.h"
#include "evaluation/statistics.h"

namespace recloop {

// Σ_a pmf[a] · truth[a]: the expected reward of drawing from `pmf` in a
// context whose candidates are worth `truth`. Throws std::invalid_argument if
// the sizes differ.
double expected_value(std::span<const double> pmf, std::span<const double> truth);

// Streaming mean of expected_value(target_pmf, logged.truth) over the logged
// interactions that carry truth. Not thread-safe.
class TrueValueAccumulator {
 public:
  // Interactions with empty truth (live traffic) are counted as skipped. A
  // truth or target pmf whose size is not the context's throws
  // std::invalid_argument naming the event.
  void add(const Interaction& logged, std::span<const double> target_pmf);

  // The mean exact value over the interactions with truth; nullopt if none had any.
  std::optional<double> value() const;
  std::size_t count() const { return values_.count(); }  // interactions with truth
  std::size_t skipped() const { return skipped_; }        // interactions without

 private:
  RunningMoments values_;
  std::size_t skipped_ = 0;
};

}  // namespace recloop

// SPDX-License-Identifier: Apache-2.0
// Off-policy evaluation of rankings (slates of L slots). A logged ranking is
// one SlateInteraction: per slot the candidate shown, how likely the logging
// and the target ranker were to show it there (conditionally on the slots
// above, and marginally; see policies/ranker.h), and the slot's reward. The
// value of a ranking is the sum of its slots' rewards (e.g. clicks per page).
//
// Building one from a log: slot k is logged under the event id
// "<event_id>/<k>" with probability = marginal[k] and conditional =
// conditional[k] of the Ranking the logger recorded (logging/slate_log.h
// reads them back); the target's come from Ranker::marginals() and
// Ranker::conditionals() of the logged prefix (cli/slate_evaluation.h).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "core/types.h"
#include "evaluation/estimator.h"

namespace recloop {

struct SlateSlot {
  ActionId action = 0;              // candidate shown at this slot
  double logged_conditional = 0.0;  // μ(action at k | slots above as logged), in (0, 1]
                                    // (read only by the standard and RIPS estimators)
  double logged_marginal = 0.0;     // μ(action at k), in (0, 1] (read only by independent IPS)
  double target_conditional = 0.0;  // π(action at k | slots above as logged), in [0, 1]
  double target_marginal = 0.0;     // π(action at k), in [0, 1]
  double reward = 0.0;              // finite
};

struct SlateInteraction {
  EventId event_id;
  std::vector<SlateSlot> slots;  // slot 0 first
};

// Streaming estimator of a target ranker's value (expected sum of slot
// rewards per ranking). Not thread-safe.
class SlateEstimator {
 public:
  virtual ~SlateEstimator() = default;
  virtual void add(const SlateInteraction& slate) = 0;
  virtual Estimate estimate(double alpha = 0.05) const = 0;
  virtual std::string_view name() const = 0;
};

}  // namespace recloop

// SPDX-License-Identifier: Apache-2.0
#include "evaluation/importance_weight.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace recloop {
namespace {

// Rounding slack for a probability computed as a ratio of sums.
constexpr double kProbabilitySlack = 1e-9;
// How far a target pmf may sum from 1: loose enough for any pmf built in
// double precision, tight enough to catch an unnormalised score vector.
constexpr double kPmfSumTolerance = 1e-6;

[[noreturn]] void reject(const Interaction& logged, const std::string& what) {
  std::ostringstream message;
  message << "event '" << logged.event_id << "': " << what;
  throw std::invalid_argument(message.str());
}

}  // namespace

void check_logged(const Interaction& logged, std::span<const double> target_pmf) {
  const std::size_t candidates = logged.context.size();
  if (logged.action >= candidates) {
    reject(logged, "logged action " + std::to_string(logged.action) + " but the context has " +
                       std::to_string(candidates) + " candidates");
  }
  // IPS divides by the probability: zero, negative or non-finite values would
  // turn the estimate into inf or NaN, or bias it, without a visible failure.
  if (!std::isfinite(logged.probability) || logged.probability <= 0.0 ||
      logged.probability > 1.0 + kProbabilitySlack) {
    std::ostringstream what;
    what << "logged probability " << logged.probability << " is not in (0, 1]";
    reject(logged, what.str());
  }
  if (!std::isfinite(logged.reward)) {
    std::ostringstream what;
    what << "reward " << logged.reward << " is not finite";
    reject(logged, what.str());
  }
  if (target_pmf.size() != candidates) {
    reject(logged, "target pmf has " + std::to_string(target_pmf.size()) +
                       " entries but the context has " + std::to_string(candidates) +
                       " candidates");
  }
  double total = 0.0;
  for (double p : target_pmf) {
    if (!std::isfinite(p) || p < 0.0 || p > 1.0 + kProbabilitySlack) {
      std::ostringstream what;
      what << "target pmf entry " << p << " is not in [0, 1]";
      reject(logged, what.str());
    }
    total += p;
  }
  if (std::abs(total - 1.0) > kPmfSumTolerance) {
    std::ostringstream what;
    what << "target pmf sums to " << total << ", not 1";
    reject(logged, what.str());
  }
}

}  // namespace recloop

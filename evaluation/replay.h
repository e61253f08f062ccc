// SPDX-License-Identifier: Apache-2.0
// The replay method for logs of a uniformly random logging policy: keep the
// events where the target, replayed on the logged context, chooses the logged
// action, and average their rewards. Unbiased for uniform logs without using
// the logged probabilities; for other loggers it is biased (use IPS/DR).
// A stochastic target is replayed by sampling its action with a seed derived
// from the event id, so the result does not depend on row order. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "evaluation/estimator.h"
#include "evaluation/exact_sum.h"

namespace recloop {

class ReplayEstimator final : public Estimator {
 public:
  struct Config {
    std::uint64_t seed = 0;  // run seed of the target's replayed draws
  };
  ReplayEstimator();  // Config defaults
  explicit ReplayEstimator(const Config& config) : config_(config) {}

  // Throws std::invalid_argument naming the event on a malformed interaction.
  void add(const Interaction& logged, std::span<const double> target_pmf) override;
  // Mean reward over the accepted events; n is the number of accepted events.
  // With none accepted, the value is NaN; with one, the SE is infinite.
  Estimate estimate(double alpha = 0.05) const override;
  std::string_view name() const override { return "replay"; }

  std::size_t seen() const { return seen_; }  // events offered to add()

 private:
  Config config_;
  ExactMoments accepted_;
  std::size_t seen_ = 0;
};

}  // namespace recloop

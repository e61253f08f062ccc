// SPDX-License-Identifier: Apache-2.0
// Random logged decisions of fixed shape, the payloads the feedback benchmarks
// send through a collector. Every number comes from the caller's Rng, so one
// seed gives one sequence of payloads.
#pragma once

#include "core/rng.h"
#include "core/sampling.h"
#include "core/types.h"

#include <cstddef>
#include <cstdint>

namespace recloop::bench {

struct PayloadShape {
  int user_features = 0;
  int action_features = 0;
  int candidates = 0;
  bool truth = false;  // draw a true reward for every candidate
  const char* policy = "";
};

// event_log_bench's shape: 16 + 16 features, 10 candidates, with truth.
inline constexpr PayloadShape kBenchPayload{16, 16, 10, true, "uniform"};
// A Personalizer-like request: 8 user features, 10 candidates x 4 features, no truth.
inline constexpr PayloadShape kSmallPayload{8, 4, 10, false, "epsilon_greedy"};

// A decision of `shape` with standard normal features, random item ids below
// 10^6, true rewards in [0, 0.1) if asked for, a uniform pmf and a random action.
inline LoggedDecision random_decision(Rng& rng, const PayloadShape& shape) {
  LoggedDecision logged;
  logged.context.user.resize(shape.user_features);
  for (int j = 0; j < shape.user_features; ++j) logged.context.user[j] = standard_normal(rng);
  logged.context.actions.resize(shape.action_features, shape.candidates);
  for (int a = 0; a < shape.candidates; ++a) {
    for (int j = 0; j < shape.action_features; ++j) {
      logged.context.actions(j, a) = standard_normal(rng);
    }
    logged.context.items.push_back(uniform_index(rng, 1'000'000));
    if (shape.truth) logged.truth.push_back(uniform01(rng) * 0.1);
  }
  Decision& d = logged.decision;
  d.pmf.assign(static_cast<std::size_t>(shape.candidates), 1.0 / shape.candidates);
  const auto n = static_cast<std::uint64_t>(shape.candidates);
  d.action = static_cast<ActionId>(uniform_index(rng, n));
  d.probability = d.pmf[d.action];
  d.item = logged.context.items[d.action];
  d.policy = shape.policy;
  logged.timestamp_us = 1'700'000'000'000'000;
  return logged;
}

}  // namespace recloop::bench

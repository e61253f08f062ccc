// SPDX-License-Identifier: Apache-2.0
// Many requests of a PopulationWorld at once, on several threads. Request r
// is drawn from its own counter-based stream, CounterRng(world.request_seed(r))
// (counter_rng.h): the user, the candidates, the shown slate's outcome and
// the picker's seed all come from it, and its result is written at position
// r - first_request. Each thread serves one contiguous range of request
// indices with its own Worker, so the results are bit-identical for any
// number of threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

#include "core/types.h"
#include "simulator/population_world.h"

namespace recloop {

struct BatchConfig {
  std::uint64_t first_request = 0;  // index of the first request
  std::size_t slots = 1;            // slate length, [1, world.max_slots()]
  int threads = 1;                  // [1, 256]
};

struct RequestResult {
  double reward = 0.0;           // drawn reward of the slate (sum over slots)
  double expected_reward = 0.0;  // its exact expectation
  std::uint32_t clicks = 0;      // clicked slots
  std::uint32_t user = 0;        // population member served
};

// Chooses the slate of a request: writes `slate.size()` distinct candidate
// indices. `seed` is the request's decision seed (the next output of its
// stream). Called concurrently from several threads: it must not write
// shared state.
using SlatePicker =
    std::function<void(const Context& context, std::uint64_t seed, std::span<ActionId> slate)>;

// Serves requests first_request .. first_request + out.size() - 1 of `world`
// and writes one result per request into `out`. An empty picker shows the
// first `slots` candidates (candidate order is already random). Throws
// std::invalid_argument for a bad slot or thread count; an exception thrown
// by the picker on any thread is rethrown here after all threads stop.
void run_batch(const PopulationWorld& world, const BatchConfig& config,
               const SlatePicker& picker, std::span<RequestResult> out);

}  // namespace recloop

// SPDX-License-Identifier: Apache-2.0
#include "simulator/batch_run.h"

#include <array>
#include <exception>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace recloop {
namespace {

void serve_range(const PopulationWorld& world, const BatchConfig& config,
                 const SlatePicker& picker, std::uint64_t begin, std::span<RequestResult> out) {
  PopulationWorld::Worker worker(world);
  PopulationWorld::Request request;
  PopulationWorld::SlateOutcome outcome;
  std::array<ActionId, SlateSimulator::kMaxSlots> slate_buffer{};
  std::array<double, SlateSimulator::kMaxSlots> expected{};
  const std::span<ActionId> slate(slate_buffer.data(), config.slots);
  const std::span<double> expected_slots(expected.data(), config.slots);
  std::iota(slate.begin(), slate.end(), ActionId{0});
  for (std::size_t i = 0; i < out.size(); ++i) {
    CounterRng rng = worker.draw(begin + i, request);
    const std::uint64_t decision_seed = rng.next();
    if (picker) picker(request.context, decision_seed, slate);
    world.draw_outcome(request, slate, rng, outcome);
    world.expected_slot_rewards(request, slate, expected_slots);
    RequestResult& result = out[i];
    result.reward = 0.0;
    result.expected_reward = 0.0;
    result.clicks = 0;
    for (std::size_t k = 0; k < config.slots; ++k) {
      result.reward += outcome.rewards[k];
      result.expected_reward += expected[k];
      result.clicks += outcome.clicks[k];
    }
    result.user = request.user;
  }
}

}  // namespace

void run_batch(const PopulationWorld& world, const BatchConfig& config,
               const SlatePicker& picker, std::span<RequestResult> out) {
  if (config.slots < 1 || config.slots > world.max_slots()) {
    throw std::invalid_argument("run_batch: slots = " + std::to_string(config.slots) +
                                ", need 1 to " + std::to_string(world.max_slots()));
  }
  if (config.threads < 1 || config.threads > 256) {
    throw std::invalid_argument("run_batch: threads = " + std::to_string(config.threads) +
                                ", need 1 to 256");
  }
  const auto threads = static_cast<std::size_t>(config.threads);
  if (threads == 1) {
    serve_range(world, config, picker, config.first_request, out);
    return;
  }
  std::vector<std::thread> pool;
  std::exception_ptr failure;
  std::mutex failure_mutex;
  const std::size_t n = out.size();
  for (std::size_t t = 0; t < threads; ++t) {
    const std::size_t begin = n * t / threads;
    const std::size_t end = n * (t + 1) / threads;
    pool.emplace_back([&, begin, end] {
      try {
        serve_range(world, config, picker, config.first_request + begin,
                    out.subspan(begin, end - begin));
      } catch (...) {
        const std::lock_guard<std::mutex> lock(failure_mutex);
        if (!failure) failure = std::current_exception();
      }
    });
  }
  for (auto& thread : pool) thread.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace recloop

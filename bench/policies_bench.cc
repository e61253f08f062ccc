// SPDX-License-Identifier: Apache-2.0
// Latency of choose() (probabilities + sampling) and update() for every policy
// at the size of a typical re-ranking request: d = 32 joint features (16 user +
// 16 item), K = 100 candidates drawn from a catalogue of 1000 items. Models are
// warmed with 5000 updates first, so nearly every catalogue item has state
// (the memory-heavy case for the per-item models). Besides Google Benchmark's
// mean time per iteration, each benchmark reports the median and 99th
// percentile of individually timed calls (counters median_us, p99_us).
//
//   cmake -S . -B build -DRECLOOP_BENCH=ON && make -C build policies_bench
//   build/bench/policies_bench
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/rng.h"
#include "core/sampling.h"
#include "core/types.h"
#include "policies/policy.h"
#include "policies/registry.h"

namespace recloop {
namespace {

constexpr int kUserDim = 16;
constexpr int kItemDim = 16;
constexpr int kFeatureDim = kUserDim + kItemDim;
constexpr std::size_t kCandidates = 100;
constexpr ItemId kCatalogue = 1000;
constexpr std::size_t kPool = 512;  // distinct requests cycled through
constexpr std::size_t kWarmUpdates = 5000;

// Requests with standard normal user features; each item keeps its own fixed
// features, as a catalogue would.
class Workload {
 public:
  Workload() : item_features_(kItemDim, static_cast<Eigen::Index>(kCatalogue)) {
    Rng rng(2024);
    for (auto& v : item_features_.reshaped()) v = standard_normal(rng);
    for (std::size_t i = 0; i < kPool; ++i) {
      contexts_.push_back(make_context(rng));
      event_ids_.push_back("bench-" + std::to_string(i));
      Interaction interaction;
      interaction.event_id = event_ids_.back();
      interaction.context = contexts_.back();
      interaction.action = static_cast<ActionId>(uniform_index(rng, kCandidates));
      interaction.probability = 1.0 / kCandidates;
      interaction.reward = static_cast<double>(bernoulli(rng, 0.1));
      interactions_.push_back(std::move(interaction));
    }
  }

  const Context& context(std::size_t i) const { return contexts_[i % kPool]; }
  const EventId& event_id(std::size_t i) const { return event_ids_[i % kPool]; }
  const Interaction& interaction(std::size_t i) const { return interactions_[i % kPool]; }

  // A policy from the registry with default settings, warmed with updates on
  // uniformly chosen candidates of the pooled requests: 5000 draws of 100 out
  // of 1000 items leave almost no item without state.
  std::unique_ptr<Policy> warmed_policy(const std::string& name) const {
    ConfigSection section(name);
    auto policy = make_policy(name, section, kFeatureDim);
    Rng rng(7);
    Interaction interaction;
    for (std::size_t t = 0; t < kWarmUpdates; ++t) {
      interaction.context = context(uniform_index(rng, kPool));
      interaction.action = static_cast<ActionId>(uniform_index(rng, kCandidates));
      interaction.probability = 1.0 / kCandidates;
      interaction.reward = static_cast<double>(bernoulli(rng, 0.1));
      policy->update(interaction);
    }
    return policy;
  }

 private:
  Context make_context(Rng& rng) const {
    Context context;
    context.user.resize(kUserDim);
    for (auto& v : context.user) v = standard_normal(rng);
    context.actions.resize(kItemDim, static_cast<Eigen::Index>(kCandidates));
    while (context.items.size() < kCandidates) {
      const ItemId item = uniform_index(rng, kCatalogue);
      const bool repeated =
          std::find(context.items.begin(), context.items.end(), item) != context.items.end();
      if (repeated) continue;
      context.actions.col(static_cast<Eigen::Index>(context.items.size())) =
          item_features_.col(static_cast<Eigen::Index>(item));
      context.items.push_back(item);
    }
    return context;
  }

  Eigen::MatrixXd item_features_;
  std::vector<Context> contexts_;
  std::vector<EventId> event_ids_;
  std::vector<Interaction> interactions_;
};

const Workload& workload() {
  static const Workload w;  // built once, outside any timed region
  return w;
}

// Records each call's latency; reports the median and 99th percentile in µs.
class LatencyRecorder {
 public:
  using Clock = std::chrono::steady_clock;
  void add(Clock::duration d) {
    samples_.push_back(std::chrono::duration<double, std::micro>(d).count());
  }
  void report(benchmark::State& state) {
    if (samples_.empty()) return;
    std::sort(samples_.begin(), samples_.end());
    const auto at = [&](double q) {
      return samples_[std::min(samples_.size() - 1, static_cast<std::size_t>(q * samples_.size()))];
    };
    state.counters["median_us"] = at(0.5);
    state.counters["p99_us"] = at(0.99);
  }

 private:
  std::vector<double> samples_;
};

void BM_choose(benchmark::State& state, const std::string& name) {
  const auto& w = workload();
  const auto policy = w.warmed_policy(name);
  LatencyRecorder latency;
  std::size_t i = 0;
  for (auto _ : state) {
    const auto start = LatencyRecorder::Clock::now();
    auto decision = policy->choose(w.context(i), w.event_id(i), 42);
    latency.add(LatencyRecorder::Clock::now() - start);
    benchmark::DoNotOptimize(decision);
    ++i;
  }
  latency.report(state);
}

void BM_update(benchmark::State& state, const std::string& name) {
  const auto& w = workload();
  auto policy = w.warmed_policy(name);
  LatencyRecorder latency;
  std::size_t i = 0;
  for (auto _ : state) {
    const auto start = LatencyRecorder::Clock::now();
    policy->update(w.interaction(i));
    latency.add(LatencyRecorder::Clock::now() - start);
    ++i;
  }
  benchmark::DoNotOptimize(policy->model_version());
  latency.report(state);
}

BENCHMARK_CAPTURE(BM_choose, uniform, std::string("uniform"));
BENCHMARK_CAPTURE(BM_choose, epsilon_greedy, std::string("epsilon_greedy"));
BENCHMARK_CAPTURE(BM_choose, lin_ucb, std::string("lin_ucb"));
BENCHMARK_CAPTURE(BM_update, uniform, std::string("uniform"));
BENCHMARK_CAPTURE(BM_update, epsilon_greedy, std::string("epsilon_greedy"));
BENCHMARK_CAPTURE(BM_update, lin_ucb, std::string("lin_ucb"));

}  // namespace
}  // namespace recloop

BENCHMARK_MAIN();

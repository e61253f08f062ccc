// SPDX-License-Identifier: Apache-2.0
// Latency of choose() (pmf + sampling) and update() for every registered
// policy, at two request sizes:
//   d32_k100    d = 32 joint features (16 user + 16 item), K = 100 candidates
//               drawn from a catalogue of 1000 items, models warmed with 5000
//               updates (nearly every item has state);
//   d128_k1000  d = 128 (64 + 64), K = 1000 candidates, the whole catalogue of
//               1000 items, warmed with 2000 updates (86% of items have state).
// Besides Google Benchmark's mean time per iteration, each benchmark reports
// the median and 99th percentile of individually timed calls (counters
// median_us, p99_us). The list of policies comes from the registry, so a
// policy added there is benchmarked without touching this file.
//
// learn/...: off-policy learning throughput (events per second, the
// items_per_second counter) over an in-memory log of 100,000 interactions
// logged uniformly at random: d = 32, K = 10 candidates of 100 items, with
// OffPolicyTrainer's dr, ips and direct targets (one full pass per iteration).
//
//   cmake -S . -B build -DRECLOOP_BENCH=ON && make -C build policies_bench
//   build/bench/policies_bench                         # everything
//   build/bench/policies_bench --benchmark_filter=d32_k100
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
#include "policies/off_policy_trainer.h"
#include "policies/policy.h"
#include "policies/registry.h"

namespace recloop {
namespace {

struct Size {
  std::string label;
  int user_dim;
  int item_dim;
  std::size_t candidates;
  ItemId catalogue;
  std::size_t warm_updates;
};

const Size kSizes[] = {
    {"d32_k100", 16, 16, 100, 1000, 5000},
    {"d128_k1000", 64, 64, 1000, 1000, 2000},
};

constexpr std::size_t kPool = 256;  // distinct requests cycled through

// Requests with standard normal user features; each catalogue item keeps its
// own fixed features, as a catalogue would.
class Workload {
 public:
  explicit Workload(const Size& size)
      : size_(size), item_features_(size.item_dim, static_cast<Eigen::Index>(size.catalogue)) {
    Rng rng(2024);
    for (auto& v : item_features_.reshaped()) v = standard_normal(rng);
    for (std::size_t i = 0; i < kPool; ++i) {
      Interaction interaction;
      interaction.event_id = "bench-" + std::to_string(i);
      interaction.context = make_context(rng);
      interaction.action = static_cast<ActionId>(uniform_index(rng, size.candidates));
      interaction.probability = 1.0 / static_cast<double>(size.candidates);
      interaction.reward = static_cast<double>(bernoulli(rng, 0.1));
      interactions_.push_back(std::move(interaction));
    }
  }

  const Interaction& interaction(std::size_t i) const { return interactions_[i % kPool]; }
  int feature_dim() const { return size_.user_dim + size_.item_dim; }

  // A policy from the registry with default settings, warmed with updates on
  // uniformly chosen candidates of the pooled requests.
  std::unique_ptr<Policy> warmed_policy(const std::string& name) const {
    ConfigSection section(name);
    auto policy = make_policy(name, section, feature_dim());
    Rng rng(7);
    Interaction interaction;
    for (std::size_t t = 0; t < size_.warm_updates; ++t) {
      interaction.context = interactions_[uniform_index(rng, kPool)].context;
      interaction.action = static_cast<ActionId>(uniform_index(rng, size_.candidates));
      interaction.probability = 1.0 / static_cast<double>(size_.candidates);
      interaction.reward = static_cast<double>(bernoulli(rng, 0.1));
      policy->update(interaction);
    }
    return policy;
  }

  Context make_context(Rng& rng) const {
    Context context;
    context.user.resize(size_.user_dim);
    for (auto& v : context.user) v = standard_normal(rng);
    context.actions.resize(size_.item_dim, static_cast<Eigen::Index>(size_.candidates));
    std::vector<bool> taken(size_.catalogue, false);
    while (context.items.size() < size_.candidates) {
      const ItemId item = uniform_index(rng, size_.catalogue);
      if (taken[item]) continue;
      taken[item] = true;
      context.actions.col(static_cast<Eigen::Index>(context.items.size())) =
          item_features_.col(static_cast<Eigen::Index>(item));
      context.items.push_back(item);
    }
    return context;
  }

 private:
  Size size_;
  Eigen::MatrixXd item_features_;
  std::vector<Interaction> interactions_;
};

const Workload& workload(const Size& size) {
  // Built once per size, outside any timed region.
  static const Workload small(kSizes[0]);
  if (size.label == kSizes[0].label) return small;
  static const Workload large(kSizes[1]);
  return large;
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

void BM_choose(benchmark::State& state, const Size& size, const std::string& name) {
  const auto& w = workload(size);
  const auto policy = w.warmed_policy(name);
  LatencyRecorder latency;
  std::size_t i = 0;
  for (auto _ : state) {
    const Interaction& request = w.interaction(i);
    const auto start = LatencyRecorder::Clock::now();
    auto decision = policy->choose(request.context, request.event_id, 42);
    latency.add(LatencyRecorder::Clock::now() - start);
    benchmark::DoNotOptimize(decision);
    ++i;
  }
  latency.report(state);
}

void BM_update(benchmark::State& state, const Size& size, const std::string& name) {
  const auto& w = workload(size);
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

// The in-memory log of the learn benchmarks: 100,000 uniformly logged
// interactions, d = 32, K = 10 of 100 items, click rate 0.1.
const std::vector<Interaction>& learning_log() {
  static const std::vector<Interaction> log = [] {
    const Workload shape({"d32_k10", 16, 16, 10, 100, 0});
    Rng rng(99);
    std::vector<Interaction> out(100000);
    for (std::size_t t = 0; t < out.size(); ++t) {
      out[t].event_id = "log-" + std::to_string(t);
      out[t].context = shape.make_context(rng);
      out[t].action = static_cast<ActionId>(uniform_index(rng, 10));
      out[t].probability = 0.1;
      out[t].reward = static_cast<double>(bernoulli(rng, 0.1));
    }
    return out;
  }();
  return log;
}

void BM_learn(benchmark::State& state, const std::string& name, OffPolicyTrainer::Targets targets) {
  const auto& log = learning_log();
  for (auto _ : state) {
    ConfigSection section(name);
    auto policy = make_policy(name, section, 32);
    OffPolicyTrainer trainer(*policy, {.targets = targets});
    for (const auto& interaction : log) trainer.learn(interaction);
    benchmark::DoNotOptimize(policy->model_version());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * log.size()));
}

void register_benchmarks() {
  for (const auto& size : kSizes) {
    for (const auto& name : policy_names()) {
      benchmark::RegisterBenchmark(("choose/" + name + "/" + size.label).c_str(),
                                   [&size, name](benchmark::State& s) { BM_choose(s, size, name); });
    }
    for (const auto& name : policy_names()) {
      benchmark::RegisterBenchmark(("update/" + name + "/" + size.label).c_str(),
                                   [&size, name](benchmark::State& s) { BM_update(s, size, name); });
    }
  }
  using Targets = OffPolicyTrainer::Targets;
  for (const auto targets : {Targets::kDr, Targets::kIps, Targets::kDirect}) {
    benchmark::RegisterBenchmark(
        ("learn/epsilon_greedy/" + std::string(targets_name(targets)) + "/d32_k10").c_str(),
        [targets](benchmark::State& s) { BM_learn(s, "epsilon_greedy", targets); })
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace
}  // namespace recloop

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  recloop::register_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

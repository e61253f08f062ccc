// SPDX-License-Identifier: Apache-2.0
// SQLite event log throughput: appending decisions with their rewards in
// batches of 1, 100 and 4096 (one transaction each), and reading interactions
// back with for_each (CPU time; appends in real time, since they wait on the
// disk). Contexts are realistic for the simulator: 16 user features, 16
// features per candidate, 10 candidates, with ground truth.
//   build-bench/bench/event_log_bench --benchmark_min_time=2
#include "core/rng.h"
#include "core/sampling.h"
#include "logging/event_log.h"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace recloop {
namespace {

constexpr int kUserDim = 16;
constexpr int kActionDim = 16;
constexpr int kCandidates = 10;

LoggedDecision make_decision(Rng& rng) {
  LoggedDecision logged;
  logged.context.user.resize(kUserDim);
  for (int j = 0; j < kUserDim; ++j) logged.context.user[j] = standard_normal(rng);
  logged.context.actions.resize(kActionDim, kCandidates);
  for (int a = 0; a < kCandidates; ++a) {
    for (int j = 0; j < kActionDim; ++j) logged.context.actions(j, a) = standard_normal(rng);
    logged.context.items.push_back(uniform_index(rng, 1'000'000));
    logged.truth.push_back(uniform01(rng) * 0.1);
  }
  Decision& d = logged.decision;
  d.pmf.assign(kCandidates, 0.01);
  d.action = static_cast<ActionId>(uniform_index(rng, kCandidates));
  d.pmf[d.action] = 1.0 - 0.01 * (kCandidates - 1);
  d.probability = d.pmf[d.action];
  d.item = logged.context.items[d.action];
  d.policy = "epsilon_greedy";
  d.model_version = 42;
  logged.timestamp_us = 1'700'000'000'000'000;
  return logged;
}

// A fresh log file under the temporary directory, deleted (with its WAL) at exit.
class TempLog {
 public:
  TempLog() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "recloop-bench-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) std::abort();
    dir_ = pattern;
  }
  ~TempLog() { std::filesystem::remove_all(dir_); }
  std::string path() const { return (dir_ / "events.db").string(); }

 private:
  std::filesystem::path dir_;
};

// Each iteration stores `batch` decisions and their `batch` rewards in one
// write(): 2 * batch events, one transaction.
void BM_EventLogAppend(benchmark::State& state) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  TempLog temp;
  EventLog log(temp.path());
  Rng rng(1);
  std::vector<LoggedDecision> decisions;
  std::vector<Reward> rewards;
  for (std::size_t i = 0; i < batch; ++i) {
    decisions.push_back(make_decision(rng));
    rewards.push_back(Reward{"", static_cast<double>(bernoulli(rng, 0.1)), 1'700'000'000'500'000});
  }
  std::uint64_t next_id = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < batch; ++i) {
      decisions[i].decision.event_id = std::to_string(next_id++);
      rewards[i].event_id = decisions[i].decision.event_id;
    }
    auto result = log.write(decisions, rewards);
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * 2 * batch));
  state.counters["events/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * 2 * batch), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EventLogAppend)
    ->Arg(1)
    ->Arg(100)
    ->Arg(4096)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// A log of n decisions with their rewards, written once per process (the
// benchmark runs its function several times; only the reads are measured).
const std::string& read_log(std::size_t n) {
  static TempLog temp;
  static const std::size_t written = [&] {
    EventLog log(temp.path());
    Rng rng(2);
    std::vector<LoggedDecision> decisions;
    std::vector<Reward> rewards;
    for (std::size_t i = 0; i < n; ++i) {
      decisions.push_back(make_decision(rng));
      decisions.back().decision.event_id = std::to_string(i);
      rewards.push_back(Reward{decisions.back().decision.event_id, 1.0, 0});
      if (decisions.size() == 4096 || i + 1 == n) {
        log.write(decisions, rewards);
        decisions.clear();
        rewards.clear();
      }
    }
    return n;
  }();
  if (written != n) std::abort();
  static const std::string path = temp.path();
  return path;
}

// Reads every interaction of a log of `n` back, decoding contexts and truth.
// CPU time: the file is in the page cache (and memory-mapped), so a read is
// SQLite's b-tree walk, the reward join and the decoding.
void BM_EventLogForEach(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  EventLog log(read_log(n));
  for (auto _ : state) {
    double total = 0.0;
    log.for_each([&](const Interaction& i) { total += i.reward * i.context.user[0]; });
    benchmark::DoNotOptimize(total);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
  state.counters["interactions/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * n), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EventLogForEach)->Arg(100'000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace recloop

BENCHMARK_MAIN();

// SPDX-License-Identifier: Apache-2.0
// End-to-end feedback throughput: a FeedbackClient pipelines decisions and
// their rewards to a Collector over TCP loopback, which stores them in SQLite
// and acknowledges them. One iteration is 5000 decision + reward pairs sent,
// stored and acknowledged (flush). The argument is the collector's max_batch.
//   build-bench/bench/collector_bench --benchmark_min_time=2
#include "bench/bench_payloads.h"
#include "core/rng.h"
#include "feedback/client.h"
#include "feedback/collector.h"

#include <benchmark/benchmark.h>
#include <zmq.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace recloop {
namespace {

constexpr int kPairsPerIteration = 5000;

void BM_CollectorRoundTrip(benchmark::State& state) {
  std::string pattern = (std::filesystem::temp_directory_path() / "recloop-bench-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) std::abort();
  const std::filesystem::path dir = pattern;

  zmq::context_t zmq(1);
  CollectorOptions options;
  options.endpoint = "tcp://127.0.0.1:*";
  options.log_path = (dir / "events.db").string();
  options.max_batch = static_cast<int>(state.range(0));
  Collector collector(zmq, options);
  std::atomic<bool> stop{false};
  std::thread serving([&] { collector.run(stop); });
  {
    FeedbackClient client(zmq, collector.endpoint());
    Rng rng(3);
    std::vector<LoggedDecision> decisions;
    for (int i = 0; i < 64; ++i) {
      decisions.push_back(bench::random_decision(rng, bench::kBenchPayload));
    }
    std::uint64_t next_id = 0;
    for (auto _ : state) {
      for (int i = 0; i < kPairsPerIteration; ++i) {
        LoggedDecision& logged = decisions[static_cast<std::size_t>(i) % decisions.size()];
        logged.decision.event_id = std::to_string(next_id++);
        client.send(logged);
        client.send(Reward{logged.decision.event_id, 1.0, logged.timestamp_us});
      }
      if (!client.flush(60'000)) state.SkipWithError("collector did not acknowledge everything");
    }
    state.counters["resends"] = static_cast<double>(client.resends());
  }
  stop = true;
  serving.join();
  const CollectorStats stats = collector.stats();
  state.SetItemsProcessed(state.iterations() * 2 * kPairsPerIteration);
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * 2 * kPairsPerIteration),
                         benchmark::Counter::kIsRate);
  state.counters["messages/batch"] =
      static_cast<double>(stats.decisions + stats.rewards + stats.duplicates) /
      static_cast<double>(std::max<std::uint64_t>(stats.batches, 1));
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_CollectorRoundTrip)
    ->Arg(1)
    ->Arg(100)
    ->Arg(4096)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace recloop

BENCHMARK_MAIN();

// SPDX-License-Identifier: Apache-2.0
// Throughput of the simulated users, in user-steps per second (the
// items_per_second counter). One user-step is one request: draw a user and
// the candidate set with every candidate's features and exact logit
// (PopulationWorld::Worker::draw), then draw the choice model's outcome and
// rewards for the shown item or slate (draw_outcome).
//   step/default      the default population world: 1000 items, 10
//                     candidates, latent_dim 6, cascade, one slot;
//   step/slate5_pbm   the same with a 5-slot slate under pbm;
//   step/large        100,000 items, 100 candidates, popularity-weighted
//                     candidates (Zipf exponent 1);
//   step/large_churn  the same with items living 10,000 requests (10 new
//                     items per request, each drawn on first use per Worker);
//   batch/<world>/threads:N  run_batch() over 1,000,000 requests (wall-clock
//                     time), the thread-count-independent batch API;
//   seam/...          the Simulator seam (next_context, which allocates a
//                     Context, plus draw_reward), for comparison with
//                     linear_click.
//
//   cmake --build build --target simulator_bench
//   build/bench/simulator_bench
//   build/bench/simulator_bench --benchmark_filter=step/
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "simulator/batch_run.h"
#include "simulator/linear_click_world.h"
#include "simulator/population_world.h"

namespace recloop {
namespace {

PopulationWorld::Config large_config() {
  PopulationWorld::Config config;
  config.n_items = 100'000;
  config.candidates = 100;
  config.popularity_candidates = true;
  return config;
}

PopulationWorld::Config churn_config() {
  PopulationWorld::Config config = large_config();
  config.item_lifetime = 10'000;  // 10 new items per request
  return config;
}

PopulationWorld::Config slate_config() {
  PopulationWorld::Config config;
  config.choice.kind = ChoiceModelKind::kPositionBased;
  return config;
}

void run_steps(benchmark::State& state, const PopulationWorld::Config& config, std::size_t slots) {
  const PopulationWorld world(config);
  PopulationWorld::Worker worker(world);
  PopulationWorld::Request request;
  PopulationWorld::SlateOutcome outcome;
  std::array<ActionId, 64> slate{};
  for (std::size_t k = 0; k < slots; ++k) slate[k] = static_cast<ActionId>(k);
  std::uint64_t index = 0;
  double clicks = 0.0;
  for (auto _ : state) {
    CounterRng rng = worker.draw(index++, request);
    world.draw_outcome(request, std::span<const ActionId>(slate.data(), slots), rng, outcome);
    clicks += outcome.rewards[0];
  }
  benchmark::DoNotOptimize(clicks);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_StepDefault(benchmark::State& state) { run_steps(state, {}, 1); }
void BM_StepSlate(benchmark::State& state) { run_steps(state, slate_config(), 5); }
void BM_StepLarge(benchmark::State& state) { run_steps(state, large_config(), 1); }
void BM_StepChurn(benchmark::State& state) { run_steps(state, churn_config(), 1); }

void run_batch_bench(benchmark::State& state, const PopulationWorld::Config& config) {
  const PopulationWorld world(config);
  std::vector<RequestResult> results(1'000'000);
  std::uint64_t first = 0;
  for (auto _ : state) {
    run_batch(world, {.first_request = first, .slots = 1,
                      .threads = static_cast<int>(state.range(0))}, {}, results);
    first += results.size();
    benchmark::DoNotOptimize(results.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * results.size()));
}

void BM_BatchDefault(benchmark::State& state) { run_batch_bench(state, {}); }
void BM_BatchLarge(benchmark::State& state) { run_batch_bench(state, large_config()); }

void BM_SeamPopulation(benchmark::State& state) {
  PopulationWorld world({});
  Rng rng(1);
  double clicks = 0.0;
  for (auto _ : state) {
    const Context context = world.next_context(rng);
    clicks += world.draw_reward(context, 0, rng);
  }
  benchmark::DoNotOptimize(clicks);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_SeamLinearClick(benchmark::State& state) {
  LinearClickWorld world({});
  Rng rng(1);
  double clicks = 0.0;
  for (auto _ : state) {
    const Context context = world.next_context(rng);
    clicks += world.draw_reward(context, 0, rng);
  }
  benchmark::DoNotOptimize(clicks);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

BENCHMARK(BM_StepDefault)->Name("step/default");
BENCHMARK(BM_StepSlate)->Name("step/slate5_pbm");
BENCHMARK(BM_StepLarge)->Name("step/large");
BENCHMARK(BM_StepChurn)->Name("step/large_churn");
BENCHMARK(BM_BatchDefault)->Name("batch/default")->Arg(1)->Arg(2)->ArgName("threads")
    ->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BatchLarge)->Name("batch/large")->Arg(1)->Arg(2)->ArgName("threads")
    ->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SeamPopulation)->Name("seam/population");
BENCHMARK(BM_SeamLinearClick)->Name("seam/linear_click");

}  // namespace
}  // namespace recloop

BENCHMARK_MAIN();

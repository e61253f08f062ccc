// SPDX-License-Identifier: Apache-2.0
// Where LinUCB's decision time goes, against the machine's limits, at d = 32
// joint features and K = 100 candidates (and d = 128, K = 1000):
//   - BM_choose/<d>/<K>/<catalogue>: a whole LinUcb::choose(), with the
//     median and 99th percentile of individually timed calls. Catalogue 1000
//     is policies_bench's case: 100 of 1000 items per request, so the 4.2 MB
//     of packed A^-1 lives in L3 and each request streams 100 x 4.2 KB from
//     it; catalogue 100 keeps everything in L2.
//   - BM_width_kernel<T, kernel>/<d>: the quadratic form x'A^-1x alone, on
//     one hot matrix, K = 100 times: the arithmetic limit of the kernel, for
//     double and single-precision (float, widened) storage. Counter
//     madds_per_s = multiply-adds (d(d+1)/2 each) per second.
//   - BM_stream_blocks/<d>/<single>: reads the same 100 random packed
//     matrices of 1000 per request as choose() does, summing them with no
//     other work: the memory limit, for double (0) or float (1) blocks.
//     Counter bytes_per_s.
//   - BM_update/<d>: one LinUcb::update() (Sherman-Morrison, O(d^2)).
//
//   cmake -S . -B build -DRECLOOP_BENCH=ON && make -C build lin_ucb_bench
//   build/bench/lin_ucb_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/sampling.h"
#include "core/types.h"
#include "policies/lin_ucb.h"
#include "policies/quadratic_form.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#endif

namespace recloop {
namespace {

constexpr std::size_t kPool = 512;  // distinct requests cycled through

std::size_t packed_size(int d) { return static_cast<std::size_t>(d) * (d + 1) / 2; }

// Requests of K candidates out of `catalogue` items with fixed features; user
// and item halves of the joint features have d / 2 entries each.
struct Workload {
  Workload(int d, std::size_t k, ItemId catalogue) : dim(d) {
    Rng rng(2024);
    const int half = d / 2;
    Eigen::MatrixXd item_features(d - half, static_cast<Eigen::Index>(catalogue));
    for (auto& v : item_features.reshaped()) v = standard_normal(rng);
    for (std::size_t i = 0; i < kPool; ++i) {
      Context context;
      context.user.resize(half);
      for (auto& v : context.user) v = standard_normal(rng);
      context.actions.resize(d - half, static_cast<Eigen::Index>(k));
      while (context.items.size() < k) {
        const ItemId item = uniform_index(rng, catalogue);
        if (std::find(context.items.begin(), context.items.end(), item) != context.items.end()) {
          continue;
        }
        context.actions.col(static_cast<Eigen::Index>(context.items.size())) =
            item_features.col(static_cast<Eigen::Index>(item));
        context.items.push_back(item);
      }
      contexts.push_back(std::move(context));
      ids.push_back("bench-" + std::to_string(i));
    }
  }

  // A LinUCB model with state for every catalogue item (5 updates per item
  // on average, uniformly chosen candidates).
  LinUcb warmed(std::size_t updates) const {
    LinUcb policy({}, dim);
    Rng rng(7);
    Interaction interaction;
    for (std::size_t t = 0; t < updates; ++t) {
      interaction.context = contexts[uniform_index(rng, kPool)];
      interaction.action = static_cast<ActionId>(uniform_index(rng, interaction.context.size()));
      interaction.probability = 1.0 / static_cast<double>(interaction.context.size());
      interaction.reward = static_cast<double>(bernoulli(rng, 0.1));
      policy.update(interaction);
    }
    return policy;
  }

  int dim;
  std::vector<Context> contexts;
  std::vector<EventId> ids;
};

void report_latency(benchmark::State& state, std::vector<double>& micros) {
  if (micros.empty()) return;
  std::sort(micros.begin(), micros.end());
  const auto at = [&](double q) {
    return micros[std::min(micros.size() - 1, static_cast<std::size_t>(q * micros.size()))];
  };
  state.counters["median_us"] = at(0.5);
  state.counters["p99_us"] = at(0.99);
}

void BM_choose(benchmark::State& state) {
  const int d = static_cast<int>(state.range(0));
  const auto k = static_cast<std::size_t>(state.range(1));
  const auto catalogue = static_cast<ItemId>(state.range(2));
  const Workload w(d, k, catalogue);
  const LinUcb policy = w.warmed(5 * catalogue);
  std::vector<double> micros;
  std::size_t i = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    auto decision = policy.choose(w.contexts[i % kPool], w.ids[i % kPool], 42);
    micros.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
    benchmark::DoNotOptimize(decision);
    ++i;
  }
  report_latency(state, micros);
}

// K quadratic forms on one matrix that stays in L1: arithmetic only.
// T = float: the single-precision copies LinUCB reads (widened to double).
template <typename T, double (*Kernel)(const T*, const double*, int), bool kAvx2>
void BM_width_kernel(benchmark::State& state) {
  const int d = static_cast<int>(state.range(0));
  if (kAvx2 && !has_avx2_quadratic_form()) {
    state.SkipWithError("no AVX2 + FMA on this CPU");
    return;
  }
  constexpr int kCandidates = 100;
  Rng rng(3);
  std::vector<T> m(packed_size(d));
  for (T& v : m) v = static_cast<T>(standard_normal(rng));
  std::vector<double> x(static_cast<std::size_t>(d) * kCandidates);
  for (double& v : x) v = standard_normal(rng);
  for (auto _ : state) {
    double total = 0.0;
    for (int a = 0; a < kCandidates; ++a) total += Kernel(m.data(), x.data() + a * d, d);
    benchmark::DoNotOptimize(total);
  }
  state.counters["madds_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kCandidates * static_cast<double>(packed_size(d)),
      benchmark::Counter::kIsRate);
}

// The sum of n doubles, with four independent vector sums (AVX2 where the
// CPU has it) so that the additions keep up with any memory level.
#if defined(__GNUC__) && defined(__x86_64__)
__attribute__((target("avx2"))) double sum_avx2(const double* p, std::size_t n) {
  __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
  std::size_t j = 0;
  for (; j + 16 <= n; j += 16) {
    s0 = _mm256_add_pd(s0, _mm256_loadu_pd(p + j));
    s1 = _mm256_add_pd(s1, _mm256_loadu_pd(p + j + 4));
    s2 = _mm256_add_pd(s2, _mm256_loadu_pd(p + j + 8));
    s3 = _mm256_add_pd(s3, _mm256_loadu_pd(p + j + 12));
  }
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, _mm256_add_pd(_mm256_add_pd(s0, s1), _mm256_add_pd(s2, s3)));
  double total = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  for (; j < n; ++j) total += p[j];
  return total;
}
#endif

double sum_portable(const double* p, std::size_t n) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  std::size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    s0 += p[j];
    s1 += p[j + 1];
    s2 += p[j + 2];
    s3 += p[j + 3];
  }
  for (; j < n; ++j) s0 += p[j];
  return (s0 + s1) + (s2 + s3);
}

// Reads 100 random packed matrices of a 1000-item array per request and
// nothing else: what the memory system alone costs choose().
// range(1) = 1: the same blocks in single precision (half the bytes).
void BM_stream_blocks(benchmark::State& state) {
  const int d = static_cast<int>(state.range(0));
  const bool single = state.range(1) == 1;
  constexpr std::size_t kItems = 1000;
  constexpr std::size_t kCandidates = 100;
  // A float block is read as half as many doubles: the same bytes.
  const std::size_t block = single ? (packed_size(d) + 1) / 2 : packed_size(d);
  std::vector<double> all(block * kItems, 1.0);
  const Workload w(d, kCandidates, kItems);
#if defined(__GNUC__) && defined(__x86_64__)
  const auto sum = has_avx2_quadratic_form() ? sum_avx2 : sum_portable;
#else
  const auto sum = sum_portable;
#endif
  std::size_t i = 0;
  for (auto _ : state) {
    double total = 0.0;
    for (const ItemId item : w.contexts[i % kPool].items) total += sum(all.data() + item * block, block);
    benchmark::DoNotOptimize(total);
    ++i;
  }
  state.counters["bytes_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kCandidates * static_cast<double>(block) * 8.0,
      benchmark::Counter::kIsRate);
}

void BM_update(benchmark::State& state) {
  const int d = static_cast<int>(state.range(0));
  const Workload w(d, 100, 1000);
  LinUcb policy = w.warmed(5000);
  Rng rng(9);
  std::vector<Interaction> interactions(kPool);
  for (std::size_t i = 0; i < kPool; ++i) {
    interactions[i].context = w.contexts[i];
    interactions[i].action = static_cast<ActionId>(uniform_index(rng, 100));
    interactions[i].probability = 0.01;
    interactions[i].reward = static_cast<double>(bernoulli(rng, 0.1));
  }
  std::vector<double> micros;
  std::size_t i = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    policy.update(interactions[i % kPool]);
    micros.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
    ++i;
  }
  benchmark::DoNotOptimize(policy.model_version());
  report_latency(state, micros);
}

BENCHMARK(BM_choose)->Args({32, 100, 1000})->Args({32, 100, 100})->Args({128, 1000, 1000});
BENCHMARK_TEMPLATE(BM_width_kernel, double, packed_quadratic_form_portable, false)->Arg(32)->Arg(128);
BENCHMARK_TEMPLATE(BM_width_kernel, double, packed_quadratic_form_avx2, true)->Arg(32)->Arg(128);
BENCHMARK_TEMPLATE(BM_width_kernel, float, single_quadratic_form_portable, false)
    ->Arg(32)
    ->Arg(128);
BENCHMARK_TEMPLATE(BM_width_kernel, float, single_quadratic_form_avx2, true)
    ->Arg(32)
    ->Arg(128);
BENCHMARK(BM_stream_blocks)->Args({32, 0})->Args({128, 0})->Args({32, 1})->Args({128, 1});
BENCHMARK(BM_update)->Arg(32)->Arg(128);

}  // namespace
}  // namespace recloop

BENCHMARK_MAIN();

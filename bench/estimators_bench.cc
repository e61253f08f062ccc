// SPDX-License-Identifier: Apache-2.0
// Throughput (rows/s, reported as items_per_second) of the off-policy
// estimators over 1,000,000 interactions held in memory: K = 8 candidates,
// 8 user and 4 item features, a uniform logger and Bernoulli clicks.
//
//   *_precomputed     the estimator loop alone: target pmfs are computed
//                     beforehand, and DR's reward model is a table lookup (the
//                     prediction is stored in each candidate's first feature).
//   Dr_ridge          DR with a fitted RidgeRewardModel predicting in the loop.
//   *_with_target     also computes the target's pmf per row, as the evaluate
//                     driver does: a softmax over a linear score returning a
//                     fresh vector, like Policy::probabilities.
//
//   Dr_columnar       DR over 10,000,000 interactions already reduced to columns
//                     (w, r, r̂(x, a_logged), Σ_a π r̂: 32 bytes per row).
//   Sum_roofline      a plain sum over the same 320 MB: the memory-bandwidth
//                     limit any one-pass DR over these columns can reach.
//   Poisson_bootstrap/B/blocked/threads  per-row Poisson bootstrap of a ratio estimate with B
//                     replicates over continuous terms (as DR with a reward
//                     model gives), rows/s (row keys precomputed from event ids).
//   Grouped_bootstrap/B/rows/threads  grouped Poisson bootstrap (evaluation/bootstrap.h)
//                     of SNIPS on an OBD-like click log of up to 1,000,000 rows: 80 items
//                     x 3 positions, a uniform logger, a fixed target table
//                     (240 distinct weights), clicks at ~0.5%; rows/s counts
//                     grouping the rows and drawing every replicate.
//   For scale: the Open Bandit Pipeline's bootstrap at B = 10,000 resamples
//   handles ~16,000 rows/s.
//
//   cmake -S . -B build -DRECLOOP_BENCH=ON && make -C build estimators_bench
//   build/bench/estimators_bench
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/sampling.h"
#include "core/types.h"
#include "evaluation/bootstrap.h"
#include "evaluation/columnar_dr.h"
#include "evaluation/doubly_robust.h"
#include "evaluation/estimator.h"
#include "evaluation/ips.h"
#include "evaluation/ridge_reward_model.h"

namespace {

using namespace recloop;

constexpr int kRows = 1000000;
constexpr int kCandidates = 8;
constexpr int kUserDim = 8;
constexpr int kItemDim = 4;
constexpr int kCatalogue = 200;

// A stand-in target policy: softmax of θ'[user; item features].
class SoftmaxTarget {
 public:
  explicit SoftmaxTarget(Rng& rng) : theta_(kUserDim + kItemDim) {
    for (int i = 0; i < theta_.size(); ++i) theta_[i] = standard_normal(rng);
  }
  std::vector<double> probabilities(const Context& context) const {
    std::vector<double> pmf(context.size());
    const double shared = theta_.head(kUserDim).dot(context.user);
    double top = -std::numeric_limits<double>::infinity();
    for (std::size_t a = 0; a < pmf.size(); ++a) {
      const auto column = static_cast<Eigen::Index>(a);
      pmf[a] = shared + theta_.tail(kItemDim).dot(context.actions.col(column));
      top = std::max(top, pmf[a]);
    }
    double total = 0.0;
    for (double& p : pmf) total += (p = std::exp(p - top));
    for (double& p : pmf) p /= total;
    return pmf;
  }

 private:
  Eigen::VectorXd theta_;
};

// r̂(x, a) = the candidate's first item feature, where the workload stores a
// precomputed prediction: the cheapest possible model, so DR's own cost shows.
class LookupRewardModel final : public RewardModel {
 public:
  double predict(const Context& context, ActionId action) const override {
    return context.actions(0, action);
  }
};

struct Workload {
  std::vector<Interaction> log;
  std::vector<double> target_pmfs;  // kRows x kCandidates, row-major
  std::unique_ptr<SoftmaxTarget> target;
  std::shared_ptr<RidgeRewardModel> ridge;

  std::span<const double> pmf(std::size_t row) const {
    return {target_pmfs.data() + row * kCandidates, kCandidates};
  }
};

const Workload& workload() {
  static const Workload instance = [] {
    Workload w;
    Rng rng(20240601);
    w.target = std::make_unique<SoftmaxTarget>(rng);
    w.log.reserve(kRows);
    w.target_pmfs.reserve(static_cast<std::size_t>(kRows) * kCandidates);
    const double probability = 1.0 / kCandidates;
    for (int row = 0; row < kRows; ++row) {
      Interaction i;
      i.event_id = std::to_string(row);
      i.context.user.resize(kUserDim);
      for (int k = 0; k < kUserDim; ++k) i.context.user[k] = uniform01(rng);
      i.context.actions.resize(kItemDim, kCandidates);
      for (int a = 0; a < kCandidates; ++a) {
        i.context.items.push_back(uniform_index(rng, kCatalogue));
        for (int k = 0; k < kItemDim; ++k) i.context.actions(k, a) = uniform01(rng);
      }
      i.action = static_cast<ActionId>(uniform_index(rng, kCandidates));
      i.probability = probability;
      // Feature 0 doubles as the lookup model's prediction; the click follows it.
      i.reward = bernoulli(rng, i.context.actions(0, i.action));
      const auto pmf = w.target->probabilities(i.context);
      w.target_pmfs.insert(w.target_pmfs.end(), pmf.begin(), pmf.end());
      w.log.push_back(std::move(i));
    }
    w.ridge = std::make_shared<RidgeRewardModel>(RidgeRewardModel::Config{},
                                                 kUserDim + kItemDim);
    for (const auto& i : w.log) w.ridge->add(i);
    w.ridge->fit();
    return w;
  }();
  return instance;
}

void run_precomputed(Estimator& estimator, const Workload& w) {
  for (std::size_t row = 0; row < w.log.size(); ++row) estimator.add(w.log[row], w.pmf(row));
  benchmark::DoNotOptimize(estimator.estimate());
}

void run_with_target(Estimator& estimator, const Workload& w) {
  for (const auto& i : w.log) estimator.add(i, w.target->probabilities(i.context));
  benchmark::DoNotOptimize(estimator.estimate());
}

void BM_Ips_precomputed(benchmark::State& state) {
  const Workload& w = workload();
  for (auto _ : state) {
    IpsEstimator ips;
    run_precomputed(ips, w);
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}

void BM_Dr_precomputed(benchmark::State& state) {
  const Workload& w = workload();
  const auto model = std::make_shared<LookupRewardModel>();
  for (auto _ : state) {
    DoublyRobustEstimator dr(model);
    run_precomputed(dr, w);
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}

void BM_Dr_ridge(benchmark::State& state) {
  const Workload& w = workload();
  for (auto _ : state) {
    DoublyRobustEstimator dr(w.ridge);
    run_precomputed(dr, w);
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}

void BM_Ips_with_target(benchmark::State& state) {
  const Workload& w = workload();
  for (auto _ : state) {
    IpsEstimator ips;
    run_with_target(ips, w);
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}

void BM_Dr_with_target(benchmark::State& state) {
  const Workload& w = workload();
  const auto model = std::make_shared<LookupRewardModel>();
  for (auto _ : state) {
    DoublyRobustEstimator dr(model);
    run_with_target(dr, w);
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}

constexpr std::size_t kColumnarRows = 10000000;

struct Columns {
  std::vector<double> weight, reward, logged_prediction, direct;
};

const Columns& columns() {
  static const Columns instance = [] {
    Columns c;
    Rng rng(7);
    for (auto* v : {&c.weight, &c.reward, &c.logged_prediction, &c.direct}) {
      v->resize(kColumnarRows);
    }
    for (std::size_t i = 0; i < kColumnarRows; ++i) {
      c.weight[i] = 8.0 * uniform01(rng);
      c.logged_prediction[i] = uniform01(rng);
      c.reward[i] = bernoulli(rng, c.logged_prediction[i]);
      c.direct[i] = uniform01(rng);
    }
    return c;
  }();
  return instance;
}

void BM_Dr_columnar(benchmark::State& state) {
  const Columns& c = columns();
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        columnar_doubly_robust({c.weight, c.reward, c.logged_prediction, c.direct}));
  }
  state.SetItemsProcessed(state.iterations() * kColumnarRows);
  state.SetBytesProcessed(state.iterations() * kColumnarRows * 4 * sizeof(double));
}

void BM_Sum_roofline(benchmark::State& state) {
  // Reads the same four columns with the fewest operations: eight independent
  // accumulators of plain adds, so the loop is bound by memory, not arithmetic.
  const Columns& c = columns();
  for (auto _ : state) {
    double lanes[8] = {};
    for (const auto* v : {&c.weight, &c.reward, &c.logged_prediction, &c.direct}) {
      const double* x = v->data();
      for (std::size_t i = 0; i + 8 <= kColumnarRows; i += 8) {
        for (int l = 0; l < 8; ++l) lanes[l] += x[i + l];
      }
    }
    double total = 0.0;
    for (double l : lanes) total += l;
    benchmark::DoNotOptimize(total);
  }
  state.SetItemsProcessed(state.iterations() * kColumnarRows);
  state.SetBytesProcessed(state.iterations() * kColumnarRows * 4 * sizeof(double));
}

void BM_Poisson_bootstrap(benchmark::State& state) {
  const auto replicates = static_cast<std::size_t>(state.range(0));
  const std::size_t n = replicates >= 10000 ? 20000 : 200000;
  const Columns& c = columns();
  PoissonBootstrap keys({.replicates = 10, .seed = 1});
  // DR terms d + w (r - r̂): continuous, every row its own value.
  std::vector<BootstrapRow> rows(n);
  for (std::size_t i = 0; i < n; ++i) {
    rows[i] = {keys.row_key(std::to_string(i)),
               c.direct[i] + c.weight[i] * (c.reward[i] - c.logged_prediction[i]), 1.0};
  }
  const bool blocked = state.range(1) != 0;
  const auto threads = static_cast<std::size_t>(state.range(2));
  for (auto _ : state) {
    PoissonBootstrap bootstrap({.replicates = replicates, .seed = 1, .threads = threads});
    if (blocked) {
      bootstrap.add_rows(rows);
    } else {
      for (const auto& row : rows) bootstrap.add_keyed(row.key, row.numerator, row.denominator);
    }
    benchmark::DoNotOptimize(bootstrap.interval());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void BM_Grouped_bootstrap(benchmark::State& state) {
  const auto replicates = static_cast<std::size_t>(state.range(0));
  const auto n = static_cast<std::size_t>(state.range(1));
  const auto threads = static_cast<std::size_t>(state.range(2));
  constexpr std::size_t kClickRows = 1000000;
  constexpr int kItems = 80;
  constexpr int kPositions = 3;
  struct Row {
    double weight, reward;
  };
  static const std::vector<Row> log = [] {
    Rng rng(11);
    // Target: a fixed pmf over items per position, as `recloop table` writes.
    std::vector<double> target(kItems * kPositions);
    for (int p = 0; p < kPositions; ++p) {
      double total = 0.0;
      for (int a = 0; a < kItems; ++a) total += (target[p * kItems + a] = uniform01(rng) + 0.05);
      for (int a = 0; a < kItems; ++a) target[p * kItems + a] /= total;
    }
    std::vector<Row> rows(kClickRows);
    for (auto& row : rows) {
      const auto a = static_cast<int>(uniform_index(rng, kItems));
      const auto p = static_cast<int>(uniform_index(rng, kPositions));
      row.weight = target[p * kItems + a] * kItems;  // π / μ with μ = 1/80
      row.reward = bernoulli(rng, 0.005);
    }
    return rows;
  }();
  for (auto _ : state) {
    GroupedPoissonBootstrap bootstrap({.replicates = replicates, .seed = 1, .threads = threads});
    for (std::size_t i = 0; i < n; ++i) bootstrap.add(log[i].weight * log[i].reward, log[i].weight);
    benchmark::DoNotOptimize(bootstrap.interval());
    state.counters["groups"] = static_cast<double>(bootstrap.groups());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

}  // namespace

BENCHMARK(BM_Dr_columnar)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sum_roofline)->Unit(benchmark::kMillisecond);
// Arguments: B; 1 = add_rows (eight rows per pass), 0 = add_keyed row by row;
// threads. One thread: rows/s from CPU time. Two threads: rows/s from real
// (wall) time, and the CPU column is the whole process's, all threads summed.
BENCHMARK(BM_Poisson_bootstrap)
    ->Args({100, 1, 1})
    ->Args({1000, 1, 1})
    ->Args({10000, 1, 1})
    ->Args({10000, 0, 1})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Poisson_bootstrap)
    ->Args({10000, 1, 2})
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->Unit(benchmark::kMillisecond);
// Arguments: B, rows (the first rows of the 1,000,000), threads (as above).
// The cost is O(rows + B x groups), so rows/s grows with the log.
BENCHMARK(BM_Grouped_bootstrap)
    ->Args({10000, 10000, 1})
    ->Args({10000, 100000, 1})
    ->Args({1000, 1000000, 1})
    ->Args({10000, 1000000, 1})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Grouped_bootstrap)
    ->Args({10000, 10000, 2})
    ->Args({10000, 1000000, 2})
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Ips_precomputed)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Dr_precomputed)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Dr_ridge)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Ips_with_target)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Dr_with_target)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();

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

}  // namespace

BENCHMARK(BM_Ips_precomputed)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Dr_precomputed)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Dr_ridge)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Ips_with_target)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Dr_with_target)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();

// SPDX-License-Identifier: Apache-2.0
// The estimators against the exact truth of ClickWorld, on logs large enough
// for the normal approximation. Seeds are fixed; tolerances come from the
// reported standard errors. A |z| <= 4 check of a normal estimate fails by
// chance with probability 2(1 - Φ(4)) ≈ 6.3e-5, so the ~25 such checks below
// have a family-wise false-failure rate of about 1.6e-3 for a fresh seed.
#include <cmath>
#include <memory>
#include <vector>

#include <catch2/catch.hpp>

#include "evaluation/direct_method.h"
#include "evaluation/doubly_robust.h"
#include "evaluation/ips.h"
#include "evaluation/naive.h"
#include "evaluation/ridge_reward_model.h"
#include "evaluation/snips.h"
#include "evaluation/true_value.h"
#include "tests/evaluation/click_world.h"

using namespace recloop;
using namespace recloop::testing;

namespace {

constexpr int kRequests = 20000;

struct Estimates {
  Estimate naive, ips, snips, dm, dr, dr_pooled;
  double exact = 0.0;  // exact value of the target on the logged contexts
};

// A ridge reward model fit on `log`. min_item_observations = 1 gives every item
// its own (well-specified) model; a minimum no item reaches leaves only the
// pooled model, which cannot represent the per-item slopes (misspecified).
std::shared_ptr<RidgeRewardModel> fit_ridge(const ClickWorld& world,
                                            const std::vector<Interaction>& log,
                                            std::size_t min_item_observations) {
  auto model = std::make_shared<RidgeRewardModel>(
      RidgeRewardModel::Config{.lambda = 1.0, .min_item_observations = min_item_observations},
      world.feature_dim());
  for (const auto& i : log) model->add(i);
  model->fit();
  return model;
}

Estimates evaluate(const std::vector<Interaction>& log, const PmfFunction& target,
                   std::shared_ptr<const RewardModel> item_model,
                   std::shared_ptr<const RewardModel> pooled_model) {
  NaiveEstimator naive;
  IpsEstimator ips;
  SnipsEstimator snips;
  DirectMethodEstimator dm(item_model);
  DoublyRobustEstimator dr(item_model);
  DoublyRobustEstimator dr_pooled(pooled_model);
  TrueValueAccumulator truth;
  for (const auto& i : log) {
    const auto pmf = target(i.context);
    for (Estimator* e : {static_cast<Estimator*>(&naive), static_cast<Estimator*>(&ips),
                         static_cast<Estimator*>(&snips), static_cast<Estimator*>(&dm),
                         static_cast<Estimator*>(&dr), static_cast<Estimator*>(&dr_pooled)}) {
      e->add(i, pmf);
    }
    truth.add(i, pmf);
  }
  return {naive.estimate(), ips.estimate(),       snips.estimate(), dm.estimate(),
          dr.estimate(),    dr_pooled.estimate(), truth.value().value()};
}

// |estimate - exact| in units of `std_error`.
double z_score(const Estimate& estimate, double exact, double std_error) {
  return std::abs(estimate.value - exact) / std_error;
}

}  // namespace

TEST_CASE("on a uniform log ips, snips, dm and dr land within 4 standard errors of the exact value",
          "[evaluation][statistical]") {
  // The reward models are fit on an independent log of the same world (cross-
  // fitting), so DR is exactly unbiased for either model.
  //
  // Against the exact value on the *same* contexts, V_same, the context-to-
  // context variation cancels: Var(IPS - V_same) = E[Var(w r | x)] / n, which is
  // below the Var(w r) / n that IPS's SE estimates. The 4 SE checks of IPS,
  // SNIPS and DR are therefore conservative.
  //
  // DM's own SE measures only context variation, which cancels against V_same;
  // what remains is the model's error, so DM is judged against DR's SE. With the
  // well-specified per-item model fit on n_train rows logged uniformly over K
  // candidates, DM - V_same ≈ Σ_items m'(θ̂ - θ) with m = mean of π(a|x) x_a, and
  // OLS gives Var ≈ Σ_items σ² m'(X'X)⁻¹m ≤ (K/n_train) E[Σ_a π(a|x)² σ²(x,a)]
  // (m'E[xx']⁻¹m ≤ E[π²] by Cauchy–Schwarz: it is the squared norm of π's
  // projection on the features). That is the reward-noise part of Var(DR term)/n
  // when n_train = n, so SE_DR bounds the DM error's standard deviation.
  const ClickWorld world;
  const auto training = draw_log(world, uniform_pmf, kRequests, 51);
  const auto item_model = fit_ridge(world, training, 1);
  const auto pooled_model = fit_ridge(world, training, kRequests + 1);
  const auto log = draw_log(world, uniform_pmf, kRequests, 52);

  auto check = [&](const PmfFunction& target) {
    const Estimates e = evaluate(log, target, item_model, pooled_model);
    CAPTURE(e.exact, e.ips.value, e.snips.value, e.dm.value, e.dr.value, e.dr_pooled.value);
    REQUIRE(z_score(e.ips, e.exact, e.ips.std_error) <= 4.0);
    REQUIRE(z_score(e.snips, e.exact, e.snips.std_error) <= 4.0);
    REQUIRE(z_score(e.dr, e.exact, e.dr.std_error) <= 4.0);
    REQUIRE(z_score(e.dr_pooled, e.exact, e.dr_pooled.std_error) <= 4.0);
    REQUIRE(z_score(e.dm, e.exact, e.dr.std_error) <= 4.0);
  };
  SECTION("deterministic target: the best candidate") { check(greedy_on_truth(world)); }
  SECTION("stochastic target: softmax of the value") { check(softmax_on_truth(world, 8.0)); }
}

TEST_CASE("on a log biased towards poor items the naive mean misses while ips, snips and dr do not",
          "[evaluation][statistical]") {
  // The logger puts most mass on the least valuable candidates (softmax of
  // -3·q), so the mean logged reward estimates the logger's value, well below
  // the target's. The naive check is the opposite direction (> 5 SE off); the
  // others as above.
  const ClickWorld world;
  const PmfFunction logging = softmax_on_truth(world, -3.0);
  const auto training = draw_log(world, logging, kRequests, 61);
  const auto item_model = fit_ridge(world, training, 1);
  const auto pooled_model = fit_ridge(world, training, kRequests + 1);
  const auto log = draw_log(world, logging, kRequests, 62);

  auto check = [&](const PmfFunction& target) {
    const Estimates e = evaluate(log, target, item_model, pooled_model);
    CAPTURE(e.exact, e.naive.value, e.ips.value, e.snips.value, e.dr.value, e.dr_pooled.value);
    REQUIRE(z_score(e.naive, e.exact, e.naive.std_error) > 5.0);
    REQUIRE(z_score(e.ips, e.exact, e.ips.std_error) <= 4.0);
    REQUIRE(z_score(e.snips, e.exact, e.snips.std_error) <= 4.0);
    REQUIRE(z_score(e.dr, e.exact, e.dr.std_error) <= 4.0);
    REQUIRE(z_score(e.dr_pooled, e.exact, e.dr_pooled.std_error) <= 4.0);
  };
  SECTION("deterministic target: the best candidate") { check(greedy_on_truth(world)); }
  SECTION("stochastic target: softmax of the value") { check(softmax_on_truth(world, 8.0)); }
}

TEST_CASE("95% intervals of ips and dr cover the policy value in about 95% of 200 seeds",
          "[evaluation][.sweep]") {
  // The intervals are for the population value V = E_x[Σ_a π(a|x) q(x,a)],
  // computed here by Monte Carlo over 10^6 contexts (no reward noise; error
  // about sd_x(V(x)) / 1000 ≈ 2e-4, negligible next to an SE of ~0.01 at
  // n = 5,000). With true coverage 0.95 the count over 200 seeds has sd
  // sqrt(0.95 · 0.05 / 200) ≈ 0.015, so [0.91, 0.99] is about ±2.6 sd.
  const ClickWorld world;
  const PmfFunction target = softmax_on_truth(world, 8.0);
  double population_value = 0.0;
  {
    Rng rng(71);
    const int contexts = 1000000;
    for (int k = 0; k < contexts; ++k) {
      const Context context = world.next_context(rng);
      population_value += expected_value(target(context), world.truth(context));
    }
    population_value /= contexts;
  }
  const int seeds = 200;
  const int requests = 5000;
  for (double logging_beta : {0.0, -3.0}) {
    const PmfFunction logging = softmax_on_truth(world, logging_beta);  // beta 0 is uniform
    const auto model = fit_ridge(world, draw_log(world, logging, kRequests, 72), 1);
    int ips_covered = 0;
    int dr_covered = 0;
    for (int seed = 0; seed < seeds; ++seed) {
      IpsEstimator ips;
      DoublyRobustEstimator dr(model);
      for (const auto& i : draw_log(world, logging, requests, 1000 + seed)) {
        const auto pmf = target(i.context);
        ips.add(i, pmf);
        dr.add(i, pmf);
      }
      const Estimate a = ips.estimate(0.05);
      const Estimate b = dr.estimate(0.05);
      ips_covered += a.lower <= population_value && population_value <= a.upper;
      dr_covered += b.lower <= population_value && population_value <= b.upper;
    }
    const double ips_coverage = static_cast<double>(ips_covered) / seeds;
    const double dr_coverage = static_cast<double>(dr_covered) / seeds;
    WARN("logging softmax beta " << logging_beta << ": V = " << population_value
                                 << ", ips coverage " << ips_coverage << ", dr coverage "
                                 << dr_coverage);
    REQUIRE(ips_coverage >= 0.91);
    REQUIRE(ips_coverage <= 0.99);
    REQUIRE(dr_coverage >= 0.91);
    REQUIRE(dr_coverage <= 0.99);
  }
}

// SPDX-License-Identifier: Apache-2.0
#include "evaluation/sequential.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "evaluation/fitted_q.h"
#include "evaluation/statistics.h"
#include "tests/evaluation/small_mdp.h"

using namespace recloop;
using namespace recloop::testing;

namespace {

// Q̂(s, a) = a whatever the state: a model with a known, simple shape.
class ActionIndexModel final : public ActionValueModel {
 public:
  void values(const Context&, std::span<double> out) const override {
    for (std::size_t a = 0; a < out.size(); ++a) out[a] = static_cast<double>(a);
  }
};

TrajectoryStep hand_step(ActionId action, double probability, double reward) {
  TrajectoryStep step;
  step.context.user = Eigen::VectorXd::Zero(1);
  step.context.actions = Eigen::MatrixXd::Identity(2, 2);
  step.context.items = {0, 1};
  step.action = action;
  step.probability = probability;
  step.reward = reward;
  return step;
}

// Two sessions of two steps, γ = 1/2 (see the derivations in the tests):
//   a: a_0 = 0, μ = 0.5,  π = (0.8, 0.2), r = 1;  a_1 = 1, μ = 0.25, π = (0.5, 0.5), r = 2
//   b: a_0 = 1, μ = 0.5,  π = (0.8, 0.2), r = 0;  a_1 = 0, μ = 0.5,  π = (0.5, 0.5), r = 1
// Weights: a: ρ = 1.6, 2 so w = 1.6, 3.2;  b: ρ = 0.4, 1 so w = 0.4, 0.4.
struct HandLog {
  std::vector<Trajectory> trajectories;
  TargetPmfs pmfs;
};

HandLog hand_log() {
  HandLog log;
  log.trajectories.resize(2);
  log.trajectories[0].session = std::string("a");
  log.trajectories[0].steps = {hand_step(0, 0.5, 1.0), hand_step(1, 0.25, 2.0)};
  log.trajectories[1].session = std::string("b");
  log.trajectories[1].steps = {hand_step(1, 0.5, 0.0), hand_step(0, 0.5, 1.0)};
  log.pmfs = {{{0.8, 0.2}, {0.5, 0.5}}, {{0.8, 0.2}, {0.5, 0.5}}};
  return log;
}

SequentialConfig hand_config() {
  SequentialConfig config;
  config.gamma = 0.5;
  config.bootstrap_replicates = 50;
  config.seed = 3;
  return config;
}

}  // namespace

TEST_CASE("pdis of the two-session example sums the discounted weighted rewards", "[evaluation]") {
  // a: 1.6·1 + 0.5·3.2·2 = 4.8;  b: 0.4·0 + 0.5·0.4·1 = 0.2.  PDIS = 2.5.
  // SE = sd(4.8, 0.2) / sqrt(2) = (4.6 / sqrt 2) / sqrt 2 = 2.3.
  // ESS = (3.2 + 0.4)² / (3.2² + 0.4²) = 12.96 / 10.4.
  const HandLog log = hand_log();
  const SequentialEstimate e = estimate_pdis(log.trajectories, log.pmfs, hand_config());
  REQUIRE(e.value == Approx(2.5).epsilon(1e-14));
  REQUIRE(e.std_error == Approx(2.3).epsilon(1e-14));
  REQUIRE(e.lower == Approx(2.5 - normal_quantile(0.975) * 2.3).epsilon(1e-12));
  REQUIRE(e.trajectories == 2);
  REQUIRE(e.transitions == 4);
  REQUIRE(e.max_cumulative_weight == Approx(3.2).epsilon(1e-14));
  REQUIRE(e.effective_sample_size == Approx(12.96 / 10.4).epsilon(1e-12));
  REQUIRE(e.zero_probability_steps == 0);
}

TEST_CASE("wpdis of the two-session example normalises each step's weights", "[evaluation]") {
  // t = 0: (1.6·1 + 0.4·0) / (1.6 + 0.4) = 0.8;  t = 1: (3.2·2 + 0.4·1) / 3.6 = 17/9.
  // WPDIS = 0.8 + 0.5 · 17/9 = 0.8 + 17/18.
  const HandLog log = hand_log();
  const SequentialEstimate e = estimate_wpdis(log.trajectories, log.pmfs, hand_config());
  REQUIRE(e.value == Approx(0.8 + 17.0 / 18.0).epsilon(1e-14));
  REQUIRE(e.lower <= e.upper);
  REQUIRE(e.std_error > 0.0);
}

TEST_CASE("sequential dr of the two-session example follows the Jiang-Li recursion", "[evaluation]") {
  // Q̂(s, a) = a, so V̂(s_0) = π(1|s_0) = 0.2 and V̂(s_1) = 0.5.
  // a: t=1: 0.5 + 2 (2 - 1) = 2.5;  t=0: 0.2 + 1.6 (1 + 0.5·2.5 - 0) = 3.8.
  // b: t=1: 0.5 + 1 (1 - 0) = 1.5;  t=0: 0.2 + 0.4 (0 + 0.5·1.5 - 1) = 0.1.
  // DR = 1.95, SE = sd(3.8, 0.1) / sqrt 2 = 3.7 / 2 = 1.85.
  const HandLog log = hand_log();
  const SequentialEstimate e =
      estimate_sequential_dr(log.trajectories, log.pmfs, ActionIndexModel(), hand_config());
  REQUIRE(e.value == Approx(1.95).epsilon(1e-14));
  REQUIRE(e.std_error == Approx(1.85).epsilon(1e-14));
}

TEST_CASE("wdr of the two-session example uses the normalised weights", "[evaluation]") {
  // w̃_{-1} = (1/2, 1/2), w̃_0 = (0.8, 0.2), w̃_1 = (8/9, 1/9).
  // t=0: Σ w̃_0 (r - Q̂) = 0.8·(1 - 0) + 0.2·(0 - 1) = 0.6, Σ w̃_{-1} V̂(s_0) = 0.2: 0.8.
  // t=1: Σ w̃_1 (r - Q̂) = 8/9·(2 - 1) + 1/9·(1 - 0) = 1,  Σ w̃_0 V̂(s_1) = 0.5: 1.5.
  // WDR = 0.8 + 0.5·1.5 = 1.55.
  const HandLog log = hand_log();
  const SequentialEstimate e = estimate_wdr(log.trajectories, log.pmfs, ActionIndexModel(), hand_config());
  REQUIRE(e.value == Approx(1.55).epsilon(1e-14));
}

TEST_CASE("magic with one partial length is that partial estimator", "[evaluation]") {
  // g^(-1) = mean V̂(s_0) = 0.2; g^(0) = (0.6 + 0.2) + γ Σ w̃_0 V̂(s_1) = 0.8 + 0.5·0.5
  // = 1.05 (the WDR terms of step 0, then the model's discounted value of s_1);
  // g^(1) = WDR = 1.55.
  const HandLog log = hand_log();
  MagicConfig magic;
  magic.partial_lengths = {-1};
  REQUIRE(estimate_magic(log.trajectories, log.pmfs, ActionIndexModel(), hand_config(), magic).value ==
          Approx(0.2).epsilon(1e-14));
  magic.partial_lengths = {0};
  REQUIRE(estimate_magic(log.trajectories, log.pmfs, ActionIndexModel(), hand_config(), magic).value ==
          Approx(1.05).epsilon(1e-14));
  magic.partial_lengths = {7};  // clamped to H - 1 = 1
  const SequentialEstimate e =
      estimate_magic(log.trajectories, log.pmfs, ActionIndexModel(), hand_config(), magic);
  REQUIRE(e.value == Approx(1.55).epsilon(1e-14));
  REQUIRE(e.partial_lengths == std::vector<int>{1});
}

TEST_CASE("magic blends its partial estimators with weights on the simplex", "[evaluation]") {
  const HandLog log = hand_log();
  const SequentialEstimate e =
      estimate_magic(log.trajectories, log.pmfs, ActionIndexModel(), hand_config());
  REQUIRE(e.partial_lengths == std::vector<int>{-1, 0, 1});
  REQUIRE(e.blend_weights.size() == 3);
  double total = 0.0;
  for (double x : e.blend_weights) {
    REQUIRE(x >= 0.0);
    total += x;
  }
  REQUIRE(total == Approx(1.0).epsilon(1e-9));
  const double blended = 0.2 * e.blend_weights[0] + 1.05 * e.blend_weights[1] + 1.55 * e.blend_weights[2];
  REQUIRE(e.value == Approx(blended).epsilon(1e-12));
}

TEST_CASE("magic's interval contains wdr's on the same resamples", "[evaluation]") {
  const SmallMdp mdp;
  const auto trajectories = mdp_trajectories(mdp, kMdpBehaviour, 100, 31);
  const TargetPmfs pmfs = mdp_target_pmfs(trajectories, kMdpTarget);
  const TabularActionValues model(mdp_action_values(mdp, kMdpTarget, 1.0) * 0.5);  // a poor model
  SequentialConfig config;
  config.seed = 8;
  const SequentialEstimate wdr = estimate_wdr(trajectories, pmfs, model, config);
  const SequentialEstimate magic = estimate_magic(trajectories, pmfs, model, config);
  REQUIRE(magic.lower <= wdr.lower);
  REQUIRE(magic.upper >= wdr.upper);
  REQUIRE(magic.lower <= magic.value);
  REQUIRE(magic.value <= magic.upper);
}

TEST_CASE("per-step weight capping caps each ratio before the product", "[evaluation]") {
  // Cap 1.5: a: ρ = 1.5, 1.5 so w = 1.5, 2.25 and 1.5·1 + 0.5·2.25·2 = 3.75;
  // b unchanged (0.2). PDIS = 3.95 / 2.
  const HandLog log = hand_log();
  SequentialConfig config = hand_config();
  config.max_step_weight = 1.5;
  const SequentialEstimate e = estimate_pdis(log.trajectories, log.pmfs, config);
  REQUIRE(e.value == Approx(3.95 / 2.0).epsilon(1e-14));
  REQUIRE(e.max_cumulative_weight == Approx(2.25).epsilon(1e-14));
}

TEST_CASE("a step the target never takes zeroes the rest of its session", "[evaluation]") {
  // b's first action gets target probability 0: b contributes 0, a 4.8.
  HandLog log = hand_log();
  log.pmfs[1][0] = {1.0, 0.0};
  const SequentialEstimate e = estimate_pdis(log.trajectories, log.pmfs, hand_config());
  REQUIRE(e.zero_probability_steps == 1);
  REQUIRE(e.value == Approx(2.4).epsilon(1e-14));
  REQUIRE(e.effective_sample_size == Approx(1.0).epsilon(1e-14));
}

TEST_CASE("an unknown behaviour probability is an error naming the session and step", "[evaluation]") {
  HandLog log = hand_log();
  log.trajectories[1].steps[1].probability = 0.0;
  REQUIRE_THROWS_WITH(estimate_pdis(log.trajectories, log.pmfs, hand_config()),
                      Catch::Contains("session 'b' step 1") && Catch::Contains("unknown"));
  REQUIRE_THROWS_AS(estimate_wdr(log.trajectories, log.pmfs, ActionIndexModel(), hand_config()),
                    std::invalid_argument);
}

TEST_CASE("a target pmf of the wrong size is an error naming the session and step", "[evaluation]") {
  HandLog log = hand_log();
  log.pmfs[0][1] = {1.0};
  REQUIRE_THROWS_WITH(estimate_wpdis(log.trajectories, log.pmfs, hand_config()),
                      Catch::Contains("session 'a' step 1") && Catch::Contains("1 entries for 2"));
  log = hand_log();
  log.pmfs.pop_back();
  REQUIRE_THROWS_AS(estimate_pdis(log.trajectories, log.pmfs, hand_config()), std::invalid_argument);
}

TEST_CASE("sequential estimators reject an out-of-range discount or replicate count", "[evaluation]") {
  const HandLog log = hand_log();
  SequentialConfig config = hand_config();
  config.gamma = 1.5;
  REQUIRE_THROWS_WITH(estimate_pdis(log.trajectories, log.pmfs, config), Catch::Contains("gamma"));
  config = hand_config();
  config.bootstrap_replicates = 5;
  REQUIRE_THROWS_WITH(estimate_wpdis(log.trajectories, log.pmfs, config),
                      Catch::Contains("bootstrap_replicates"));
}

TEST_CASE("sequential estimators of no trajectories have no value", "[evaluation]") {
  const SequentialEstimate e = estimate_pdis({}, {}, SequentialConfig{});
  REQUIRE(std::isnan(e.value));
  REQUIRE(std::isinf(e.std_error));
}

namespace {

// Per seed, every estimator on n sessions of the small MDP, γ = 1.
struct SeedEstimates {
  std::vector<SequentialEstimate> pdis, wpdis, dr_true, wdr, magic;
};

SeedEstimates run_seeds(std::size_t seeds, std::size_t n, std::uint64_t first_seed,
                        bool with_magic) {
  const SmallMdp mdp;
  const TabularActionValues truth(mdp_action_values(mdp, kMdpTarget, 1.0));
  SeedEstimates out;
  for (std::size_t k = 0; k < seeds; ++k) {
    const auto trajectories = mdp_trajectories(mdp, kMdpBehaviour, n, first_seed + k);
    const TargetPmfs pmfs = mdp_target_pmfs(trajectories, kMdpTarget);
    SequentialConfig config;
    config.seed = 1000 + k;
    FittedQConfig fqe;
    fqe.bootstrap_replicates = 0;
    fqe.lambda = 1e-6;
    const FittedQResult fitted = fitted_q_evaluation(trajectories, pmfs, fqe);
    out.pdis.push_back(estimate_pdis(trajectories, pmfs, config));
    out.wpdis.push_back(estimate_wpdis(trajectories, pmfs, config));
    out.dr_true.push_back(estimate_sequential_dr(trajectories, pmfs, truth, config));
    out.wdr.push_back(estimate_wdr(trajectories, pmfs, fitted.model, config));
    if (with_magic) {
      // MAGIC with 2-fold cross-fitted FQE models: no trajectory is scored
      // by a model that saw it.
      const CrossFittedQ cross = cross_fitted_q_evaluation(trajectories, pmfs, fqe, 2);
      out.magic.push_back(estimate_magic(trajectories, pmfs, cross.models, config));
    }
  }
  return out;
}

RunningMoments moments_of(const std::vector<SequentialEstimate>& estimates) {
  RunningMoments m;
  for (const auto& e : estimates) m.add(e.value);
  return m;
}

double coverage(const std::vector<SequentialEstimate>& estimates, double truth) {
  std::size_t covered = 0;
  for (const auto& e : estimates) covered += (e.lower <= truth && truth <= e.upper) ? 1 : 0;
  return static_cast<double>(covered) / static_cast<double>(estimates.size());
}

}  // namespace

TEST_CASE("pdis is unbiased for the closed-form value of the small mdp", "[evaluation][statistical]") {
  // 400 independent logs of 100 sessions. The mean of 400 unbiased estimates
  // has standard error sd / sqrt(400); it lies within 3 of them of V^π except
  // with probability 0.0027 (normal approximation: 400 i.i.d. terms).
  const double truth = mdp_value(SmallMdp{}, kMdpTarget, 1.0);
  const SeedEstimates e = run_seeds(400, 100, 1, false);
  const RunningMoments m = moments_of(e.pdis);
  const double se = std::sqrt(m.sample_variance() / static_cast<double>(m.count()));
  REQUIRE(std::abs(m.mean() - truth) < 3.0 * se);
  // And DR with the exact Q^π is unbiased too.
  const RunningMoments dr = moments_of(e.dr_true);
  REQUIRE(std::abs(dr.mean() - truth) < 3.0 * std::sqrt(dr.sample_variance() / 400.0));
}

TEST_CASE("weighted and model-based estimators vary less than pdis across logs",
          "[evaluation][statistical]") {
  // The ratio of two sample variances over m = 400 logs has relative standard
  // deviation at most about sqrt(2/(m-1) + 2/(m-1)) = 0.10 (normal estimates;
  // their positive correlation only shrinks it). So a true variance ratio of
  // 0.7 or less is seen below 1 except with probability < 0.002 (3 sd). DR
  // and WDR remove most of the reward noise and of the weights' spread from
  // the later steps; WPDIS only the spread of the normaliser, so its ratio
  // is closer to 1 (here about 0.75).
  const SeedEstimates e = run_seeds(400, 100, 5000, false);
  const double pdis = moments_of(e.pdis).sample_variance();
  REQUIRE(moments_of(e.wdr).sample_variance() < pdis);
  REQUIRE(moments_of(e.dr_true).sample_variance() < pdis);
  REQUIRE(moments_of(e.wpdis).sample_variance() < pdis);
}

TEST_CASE("wpdis is consistent on a large log of the small mdp", "[evaluation][statistical]") {
  // 40000 sessions: WPDIS's bias is O(1/n) and its standard deviation is at
  // most PDIS's, sd_PDIS / sqrt(n); 4 standard errors of PDIS on the same log
  // bound |WPDIS - V^π| except with probability ~6e-5.
  const SmallMdp mdp;
  const double truth = mdp_value(mdp, kMdpTarget, 1.0);
  const auto trajectories = mdp_trajectories(mdp, kMdpBehaviour, 40000, 77);
  const TargetPmfs pmfs = mdp_target_pmfs(trajectories, kMdpTarget);
  SequentialConfig config;
  const SequentialEstimate pdis = estimate_pdis(trajectories, pmfs, config);
  const SequentialEstimate wpdis = estimate_wpdis(trajectories, pmfs, config);
  REQUIRE(std::abs(wpdis.value - truth) < 4.0 * pdis.std_error);
  REQUIRE(wpdis.lower <= truth);
  REQUIRE(truth <= wpdis.upper);
}

TEST_CASE("sequential confidence intervals cover the closed-form value at about the nominal rate",
          "[evaluation][statistical]") {
  // 200 logs of 200 sessions, nominal 95%. The observed coverage of a 95%
  // interval has binomial sd sqrt(0.95·0.05/200) = 0.0154; 3 sd below 0.95 is
  // 0.904, and we allow a further 0.02 for the O(1/sqrt(n)) undercoverage of
  // normal and percentile intervals at n = 200: at least 0.88. From above:
  // a correct 95% interval covers all 200 with probability 0.95^200 = 4e-5,
  // so the normal intervals must miss at least once.
  // MAGIC's interval contains WDR's with the same models (the hull of the
  // two), so it covers at least as often: the same 0.88. Its error must also be no larger than
  // PDIS's on average.
  const double truth = mdp_value(SmallMdp{}, kMdpTarget, 1.0);
  const SeedEstimates e = run_seeds(200, 200, 90000, true);
  REQUIRE(coverage(e.pdis, truth) >= 0.88);
  REQUIRE(coverage(e.pdis, truth) < 1.0);
  REQUIRE(coverage(e.dr_true, truth) >= 0.88);
  REQUIRE(coverage(e.dr_true, truth) < 1.0);
  REQUIRE(coverage(e.wpdis, truth) >= 0.88);
  REQUIRE(coverage(e.wdr, truth) >= 0.88);
  REQUIRE(coverage(e.magic, truth) >= 0.88);
  double magic_squared_error = 0.0, pdis_squared_error = 0.0;
  for (std::size_t k = 0; k < e.magic.size(); ++k) {
    magic_squared_error += std::pow(e.magic[k].value - truth, 2);
    pdis_squared_error += std::pow(e.pdis[k].value - truth, 2);
  }
  REQUIRE(magic_squared_error < pdis_squared_error);
}

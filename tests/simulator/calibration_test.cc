// SPDX-License-Identifier: Apache-2.0
// Calibration of the population world's click model from a biased ranking log.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "simulator/calibration.h"
#include "tests/simulator/calibration_fixtures.h"

using namespace recloop;
using namespace recloop::testing;
using Catch::Matchers::Contains;

namespace {

// Factor recovery (pbm world, signal 2, 6 latent dims, observed user
// features with noise sd 0.5, the log of check_recovery). Over run seeds
// 11-14 (the [.sweep] test below) the correlation of predicted with true
// (user, item) logits was 0.846-0.857 for the weighted factor fit,
// 0.869-0.874 unweighted and 0.226-0.239 for logit(a_i) alone: a seed-to-
// seed sd of about 0.005. The floors sit over 15 such sds below: the factor
// fit's correlation above 0.75 and at least 0.4 above the attractiveness-
// only fit's. A fit without working factors (q_i = 0) gives the latter's
// 0.23 and fails both.
constexpr double kFactorCorrelationFloor = 0.75;
constexpr double kFactorGainFloor = 0.4;

struct Recovery {
  CalibrationResult fit;
  double rms_z = 0.0;        // sqrt(mean over items of ((a_fit - a_true) / se)^2)
  double weighted_mae = 0.0; // mean |a_fit - a_true|
  double naive_mae = 0.0;    // mean |CTR - a_true|
  double naive_popularity_correlation = 0.0;  // corr(log(CTR / a_true), log popularity)
};

double correlation(const std::vector<double>& x, const std::vector<double>& y) {
  const auto n = static_cast<double>(x.size());
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0.0, sxx = 0.0, syy = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxy / std::sqrt(sxx * syy);
}

Recovery fit_and_compare(const PopulationWorld& world, const CalibrationLogSpec& spec) {
  CalibrationData data(PopulationWorld::kLogPopularityRow);
  generate_calibration_log(world, spec, [&](const Interaction& i) { data.add(i); });
  Recovery out{.fit = data.fit({})};
  const auto truth = true_attractiveness(world);
  const auto& fit = out.fit;
  const auto n = static_cast<double>(fit.items.size());
  std::vector<double> naive_error, log_popularity;
  for (std::size_t i = 0; i < fit.items.size(); ++i) {
    const double a = truth.at(fit.items[i]);
    const double z = (fit.attractiveness[i] - a) / fit.attractiveness_se[i];
    out.rms_z += z * z / n;
    out.weighted_mae += std::abs(fit.attractiveness[i] - a) / n;
    out.naive_mae += std::abs(fit.naive_ctr[i] - a) / n;
    naive_error.push_back(std::log(fit.naive_ctr[i] / a));
    log_popularity.push_back(fit.log_popularity[i]);
  }
  out.rms_z = std::sqrt(out.rms_z);
  out.naive_popularity_correlation = correlation(naive_error, log_popularity);
  return out;
}

// The checks shared by the choice models. Tolerances:
// - theta_k (k >= 1) and eta within 4 of their sandwich standard errors: a
//   normal estimate misses by more with probability 6e-5. The errors are
//   also bounded absolutely (SE < 0.03 for theta_k, < 0.06 for eta), so a
//   fit with useless standard errors cannot pass: on this log (40k
//   rankings, 8 candidates, 4 slots, epsilon 0.2) the SEs are 0.010-0.025
//   for theta_k and 0.022-0.034 for eta, and over seeds 11-20 the theta
//   z-scores have a root mean square of 0.95-1.09 (the [.sweep] test below).
// - attractiveness: the items' z-scores have a root mean square in [0.5, 1.6]
//   (1 when the SEs are right; 40 items give a chi-square / 40 whose 1e-4
//   tails are about 0.55 and 1.5, widened since the SEs ignore that the
//   rows of one ranking share a user), and a mean absolute error below 0.035.
// - the naive CTR is far off: its mean absolute error exceeds 3 times the
//   weighted fit's, and its ratio to the truth grows with popularity
//   (correlation of log(CTR / a) with log popularity > 0.3) because the
//   logger puts popular items at the top, where they are examined more.
void check_recovery(const Recovery& r, double eta) {
  const auto& fit = r.fit;
  REQUIRE(fit.converged);
  REQUIRE(fit.slots == 4);
  REQUIRE(fit.theta[0] == 1.0);
  for (std::size_t k = 1; k < fit.slots; ++k) {
    const double truth = std::pow(static_cast<double>(k + 1), -eta);
    INFO("slot " << k << ": theta " << fit.theta[k] << " +- " << fit.theta_se[k] << ", true "
                 << truth << ", naive " << fit.naive_theta[k]);
    CHECK(fit.theta_se[k] > 0.0);
    CHECK(fit.theta_se[k] < 0.03);
    CHECK(std::abs(fit.theta[k] - truth) < 4.0 * fit.theta_se[k]);
  }
  // The naive slot CTR ratio at the last slot confounds position with the
  // logger's ranking: far outside the weighted fit's interval.
  const double last = std::pow(static_cast<double>(fit.slots), -eta);
  CHECK(std::abs(fit.naive_theta[fit.slots - 1] - last) > 4.0 * fit.theta_se[fit.slots - 1]);
  INFO("eta " << fit.eta << " +- " << fit.eta_se);
  CHECK(fit.eta_se < 0.06);
  CHECK(std::abs(fit.eta - eta) < 4.0 * fit.eta_se);
  INFO("items: rms z " << r.rms_z << ", mae " << r.weighted_mae << ", naive mae " << r.naive_mae
                       << ", naive error vs popularity " << r.naive_popularity_correlation);
  CHECK(r.rms_z > 0.5);
  CHECK(r.rms_z < 1.6);
  CHECK(r.weighted_mae < 0.035);
  CHECK(r.naive_mae > 3.0 * r.weighted_mae);
  CHECK(r.naive_popularity_correlation > 0.3);
}

void add_row(CalibrationData& data, const std::string& id, std::uint32_t slot, double p,
             double reward) {
  Interaction row;
  row.event_id = id;
  row.context.items = {7, 8};
  row.context.actions = Eigen::MatrixXd::Zero(1, 2);
  row.context.user = Eigen::VectorXd::Zero(1);
  row.action = slot;
  row.slot = slot;
  row.probability = p;
  row.reward = reward;
  data.add(row);
}

// Correlations over (user, item) pairs of predicted with true click logits:
// the factor fit (weighted and unweighted) and the attractiveness-only fit
// logit(a_i). The users are the first `users` distinct users of the log (by
// their observed features), crossed with every fitted item.
struct LogitRecovery {
  double factors = 0.0, unweighted_factors = 0.0, attractiveness_only = 0.0;
  double loglik_before = 0.0, loglik_after = 0.0;
};

LogitRecovery recover_logits(const PopulationWorld& world, const CalibrationLogSpec& spec,
                             std::size_t users = 400) {
  CalibrationData data(PopulationWorld::kLogPopularityRow);
  std::vector<Eigen::VectorXd> seen;
  generate_calibration_log(world, spec, [&](const Interaction& i) {
    data.add(i);
    if (seen.size() < users && (seen.empty() || seen.back() != i.context.user)) {
      seen.push_back(i.context.user);
    }
  });
  const auto fit = data.fit({});
  const auto unweighted = data.fit({.weighted = false});
  std::vector<double> truth, with_factors, without_weights, item_only;
  for (const auto& y : seen) {
    const std::uint32_t u = world.find_user(y);
    for (std::size_t i = 0; i < fit.items.size(); ++i) {
      truth.push_back(world.logit(u, fit.items[i]));
      with_factors.push_back(fit.predicted_logit(i, y));
      without_weights.push_back(unweighted.predicted_logit(i, y));
      const double a = std::clamp(fit.attractiveness[i], 1e-3, 1.0 - 1e-3);
      item_only.push_back(std::log(a / (1.0 - a)));
    }
  }
  return {.factors = correlation(with_factors, truth),
          .unweighted_factors = correlation(without_weights, truth),
          .attractiveness_only = correlation(item_only, truth),
          .loglik_before = fit.loglik_attractiveness,
          .loglik_after = fit.loglik_factors};
}

}  // namespace

TEST_CASE("calibration's factor fit predicts per-user click logits better than attractiveness alone",
          "[simulator][statistical]") {
  const PopulationWorld world(calibration_world(ChoiceModelKind::kPositionBased, 1.0));
  const LogitRecovery r = recover_logits(world, {.run_seed = 12});
  INFO("corr(predicted, true logit): factors " << r.factors << ", unweighted factors "
       << r.unweighted_factors << ", attractiveness only " << r.attractiveness_only
       << "; mean log-likelihood " << r.loglik_before << " -> " << r.loglik_after);
  CHECK(r.loglik_after > r.loglik_before);
  CHECK(r.factors > kFactorCorrelationFloor);
  CHECK(r.factors - r.attractiveness_only > kFactorGainFloor);
}

TEST_CASE("calibration's factor fit recovers the logits alike over four ranking logs", "[simulator][.sweep]") {
  const PopulationWorld world(calibration_world(ChoiceModelKind::kPositionBased, 1.0));
  for (std::uint64_t seed = 11; seed <= 14; ++seed) {
    const LogitRecovery r = recover_logits(world, {.run_seed = seed});
    WARN("seed " << seed << ": factors " << r.factors << ", unweighted " << r.unweighted_factors
         << ", attractiveness only " << r.attractiveness_only << ", loglik "
         << r.loglik_before << " -> " << r.loglik_after);
  }
}

TEST_CASE("calibration recovers multi_click position bias and attractiveness from a biased ranker's log",
          "[simulator][statistical]") {
  const double eta = 1.0;
  const PopulationWorld world(calibration_world(ChoiceModelKind::kMultiClick, eta));
  const Recovery r = fit_and_compare(world, {});
  CHECK(r.fit.choice == ChoiceModelKind::kMultiClick);
  CHECK(r.fit.max_clicks_per_ranking > 1);
  check_recovery(r, eta);
}

TEST_CASE("calibration recovers pbm position bias and attractiveness from a biased ranker's log",
          "[simulator][statistical]") {
  const double eta = 1.0;
  const PopulationWorld world(calibration_world(ChoiceModelKind::kPositionBased, eta));
  const Recovery r = fit_and_compare(world, {.run_seed = 12});
  CHECK(r.fit.choice == ChoiceModelKind::kPositionBased);
  CHECK(r.fit.max_clicks_per_ranking == 1);
  check_recovery(r, eta);
}

TEST_CASE("calibration maps item logits to bias level, popularity weight and zipf exponent",
          "[simulator][statistical]") {
  // signal = 0: every user has x_ui = b_i + popularity_weight log(n p_i), so
  // logit(a_i) is the item's own logit and the mapping is exact up to noise.
  auto config = calibration_world(ChoiceModelKind::kMultiClick, 0.7);
  config.signal = 0.0;
  const PopulationWorld world(config);
  CalibrationData data(PopulationWorld::kLogPopularityRow);
  generate_calibration_log(world, {}, [&](const Interaction& i) { data.add(i); });
  const auto fit = data.fit({});
  // The oracle: the same regression on the true item logits.
  std::vector<double> x, y;
  for (std::size_t i = 0; i < fit.items.size(); ++i) {
    x.push_back(std::log(static_cast<double>(fit.items.size())) + fit.log_popularity[i]);
    y.push_back(world.logit(0, fit.items[i]));
  }
  const double n = static_cast<double>(x.size());
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxx = 0.0, sxy = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
  }
  const double slope = sxy / sxx, intercept = my - slope * mx;
  double rss = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    rss += std::pow(y[i] - intercept - slope * x[i], 2);
  }
  const double residual_sd = std::sqrt(rss / (n - 2.0));
  // The fitted logits carry noise of sd about se_a / (a (1 - a)) ~ 0.1 per
  // item (a ~ 0.3, se_a ~ 0.02), so the intercept and slope of 40 items move
  // by about 0.1 / sqrt(40) ~ 0.016 and 0.016 / sd(x) ~ 0.02: 0.1 is > 4 SE.
  // The zipf shares are logged exactly, so the exponent is exact.
  INFO("bias_mean " << fit.bias_mean << " vs " << intercept << "; popularity_weight "
                    << fit.popularity_weight << " vs " << slope << "; bias_sd " << fit.bias_sd
                    << " vs " << residual_sd);
  CHECK(std::abs(fit.bias_mean - intercept) < 0.1);
  CHECK(std::abs(fit.popularity_weight - slope) < 0.1);
  CHECK(std::abs(fit.bias_sd - residual_sd) < 0.1);
  REQUIRE(fit.zipf_exponent.has_value());
  CHECK(*fit.zipf_exponent == Approx(config.zipf_exponent).margin(1e-9));
  CHECK(fit.candidates == 8);
}

TEST_CASE("calibration refuses an empty log, a log without later slots and a zero probability",
          "[simulator]") {
  CalibrationData empty;
  REQUIRE_THROWS_WITH(empty.fit({}), Contains("no logged slots"));
  CalibrationData single;
  add_row(single, "a", 0, 0.5, 1.0);
  REQUIRE_THROWS_WITH(single.fit({}), Contains("slot 0") && Contains("2 or more slots"));
  CalibrationData data;
  REQUIRE_THROWS_WITH(add_row(data, "r9/1", 1, 0.0, 1.0),
                      Contains("r9/1") && Contains("probability"));
  REQUIRE_THROWS_WITH(add_row(data, "r9/1", 1, 1.5, 1.0), Contains("r9/1"));
  CalibrationData no_popularity(3);
  REQUIRE_THROWS_WITH(add_row(no_popularity, "r2/0", 0, 0.5, 0.0),
                      Contains("r2/0") && Contains("popularity row 3"));
}

TEST_CASE("calibration of a uniform logger's exact click counts returns the generating theta and a",
          "[simulator]") {
  // Rows whose weighted click counts equal their expectations make the
  // weighted likelihood's maximiser the truth exactly.
  const std::vector<double> a = {0.6, 0.3, 0.1};
  const std::vector<double> theta = {1.0, 0.5};
  CalibrationData data;
  std::size_t id = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (std::uint32_t k = 0; k < 2; ++k) {
      // 1000 rows at p = 0.5 with 1000 theta_k a_i clicks (600, 300; 300, 150; 100, 50).
      const int clicks = static_cast<int>(std::lround(1000.0 * theta[k] * a[i]));
      for (int r = 0; r < 1000; ++r) {
        Interaction row;
        row.event_id = std::string("q").append(std::to_string(id++)).append("/").append(
            std::to_string(k));
        row.context.items = {100 + i, 200};
        row.context.actions = Eigen::MatrixXd::Zero(1, 2);
        row.context.user = Eigen::VectorXd::Zero(1);
        row.action = 0;
        row.slot = k;
        row.probability = 0.5;
        row.reward = r < clicks ? 1.0 : 0.0;
        data.add(row);
      }
    }
  }
  const auto fit = data.fit({.choice = ChoiceModelKind::kMultiClick});
  REQUIRE(fit.converged);
  CHECK(fit.theta[1] == Approx(0.5).margin(1e-6));
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(fit.attractiveness[i] == Approx(a[i]).margin(1e-6));
  CHECK(fit.eta == Approx(1.0).margin(1e-5));  // 2^-1 = 0.5
  CHECK_FALSE(fit.choice_detected);
}

TEST_CASE("calibration's theta z-scores over ten ranking logs are standard normal",
          "[simulator][.sweep]") {
  // Seeds 11-20 of each linear model: the root mean square of its 30 theta_k
  // z-scores should be near 1 (sqrt(chi-square_30 / 30) is outside
  // [0.62, 1.41] with probability 2e-3), and none should pass 4.
  // Measured: multi_click 1.09 (max |z| 2.9), pbm 0.95 (max 2.4).
  for (const auto kind : {ChoiceModelKind::kMultiClick, ChoiceModelKind::kPositionBased}) {
    const PopulationWorld world(calibration_world(kind, 1.0));
    double z2 = 0.0, max_z = 0.0, count = 0.0;
    for (std::uint64_t seed = 11; seed <= 20; ++seed) {
      CalibrationData data(PopulationWorld::kLogPopularityRow);
      generate_calibration_log(world, {.run_seed = seed},
                               [&](const Interaction& i) { data.add(i); });
      const auto fit = data.fit({});
      for (std::size_t k = 1; k < fit.slots; ++k) {
        const double z = (fit.theta[k] - 1.0 / static_cast<double>(k + 1)) / fit.theta_se[k];
        z2 += z * z;
        max_z = std::max(max_z, std::abs(z));
        count += 1.0;
      }
    }
    const double rms = std::sqrt(z2 / count);
    INFO(choice_model_name(kind) << ": rms z " << rms << ", max |z| " << max_z);
    CHECK(rms > 0.62);
    CHECK(rms < 1.41);
    CHECK(max_z < 4.0);
  }
}

// SPDX-License-Identifier: Apache-2.0
// The hidden seed sweep of the off-policy estimators: on 200 biased logs of
// the linear click world per logging policy (tests/evaluation/click_world_logs.h),
// how often each estimator's 95% interval covers the target's exact value, its
// mean bias against its mean standard error, and how often the naive mean of
// the logged rewards misses by more than 5 standard errors. Run by hand:
//   recloop_tests "[.sweep]"
// It prints one table per logging policy.
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/config.h"
#include "evaluation/registry.h"
#include "evaluation/ridge_reward_model.h"
#include "tests/evaluation/click_world_logs.h"

using namespace recloop;
using namespace recloop::testing;

namespace {

// 10,000 requests per log: one seed (two logs, eight estimators on each)
// takes about 0.05 s of CPU, and the whole sweep, with the training and the
// Monte Carlo value, about 12 s.
constexpr int kSeeds = 200;
constexpr int kRequests = 10000;

const std::vector<std::string> kEstimators = {"naive", "ips",       "snips", "dm",
                                              "dr",    "sndr", "switch_dr", "dros"};

struct Tally {
  int covered = 0;          // 95% interval holds the population value
  int covered_same = 0;     // ... holds the exact value on the logged contexts
  int missed_by_5_se = 0;   // |estimate - V| > 5 standard errors
  double error_sum = 0.0;   // Σ (estimate - V)
  double error_squares = 0.0;
  double se_sum = 0.0;

  double share(int count) const { return static_cast<double>(count) / kSeeds; }
  double bias() const { return error_sum / kSeeds; }
  double mean_se() const { return se_sum / kSeeds; }
  // Spread of the estimates over seeds, to set beside the mean reported SE.
  double sd() const { return std::sqrt((error_squares - error_sum * bias()) / (kSeeds - 1)); }
};

// A per-item ridge model of the rewards, fit on a log of its own (never the
// log being scored), so DR, SNDR and the others are judged with a model that
// is independent of their data.
std::shared_ptr<const RewardModel> fit_reward_model(LinearClickWorld& world, const Policy& logger,
                                                    std::uint64_t seed) {
  auto model = std::make_shared<RidgeRewardModel>(
      RidgeRewardModel::Config{.lambda = 1.0, .min_item_observations = 20}, world.feature_dim());
  for (const auto& i : log_frozen_policy(world, logger, 20000, seed)) model->add(i);
  model->fit();
  return model;
}

}  // namespace

TEST_CASE("95% intervals on biased click-world logs cover the exact value in about 95% of 200 seeds",
          "[evaluation][.sweep]") {
  BiasedLogExperiment experiment = make_biased_log_experiment();
  LinearClickWorld& world = experiment.world;
  const Policy& target = *experiment.target;
  // The intervals are for the population value V = E_x[Σ_a π(a|x) q(x,a)]
  // (every estimator's SE includes the context-to-context spread). Monte
  // Carlo over 10^6 contexts with the exact q: V(x) lies in [0, 1], so the
  // error sd_x(V(x)) / 1000 is below 5e-4, against SEs of 0.01 to 0.07 here.
  const double value = population_value(world, target, 1000000, 7);
  std::printf("target softmax_linear, population value V = %.4f; %d seeds x %d requests\n", value,
              kSeeds, kRequests);

  std::uint64_t logger_index = 0;
  for (const NamedPolicy& logger : experiment.loggers) {
    ++logger_index;
    const auto model = fit_reward_model(world, *logger.policy, 500 + logger_index);
    std::vector<Tally> tallies(kEstimators.size());
    double logger_value = 0.0;
    for (int seed = 0; seed < kSeeds; ++seed) {
      const auto log = log_frozen_policy(world, *logger.policy, kRequests,
                                         logger_index * 100000 + static_cast<std::uint64_t>(seed));
      ConfigSection parameters("estimators");
      parameters.set("tau", "20");     // switch_dr: weights above 20 use the model alone
      parameters.set("lambda", "50");  // dros: w -> 50 w / (w² + 50)
      std::vector<std::unique_ptr<Estimator>> estimators;
      for (const auto& name : kEstimators) estimators.push_back(make_estimator(name, model, parameters));
      double same_context = 0.0;
      for (const auto& i : log) {
        const auto pmf = target.probabilities(i.context);
        for (auto& e : estimators) e->add(i, pmf);
        double v = 0.0;
        for (std::size_t a = 0; a < pmf.size(); ++a) v += pmf[a] * i.truth[a];
        same_context += v;
        logger_value += i.reward;
      }
      same_context /= static_cast<double>(log.size());
      for (std::size_t k = 0; k < estimators.size(); ++k) {
        const Estimate e = estimators[k]->estimate(0.05);
        Tally& t = tallies[k];
        t.covered += e.lower <= value && value <= e.upper;
        t.covered_same += e.lower <= same_context && same_context <= e.upper;
        t.missed_by_5_se += std::abs(e.value - value) > 5.0 * e.std_error;
        t.error_sum += e.value - value;
        t.error_squares += (e.value - value) * (e.value - value);
        t.se_sum += e.std_error;
      }
    }
    logger_value /= static_cast<double>(kSeeds) * kRequests;

    std::printf("\nlogger %s (mean logged reward %.4f), V = %.4f\n", logger.name.c_str(),
                logger_value, value);
    std::printf("%-10s %9s %10s %10s %9s %8s %7s %9s\n", "estimator", "coverage", "cov(same)",
                "mean bias", "mean SE", "bias/SE", "sd/SE", ">5 SE off");
    for (std::size_t k = 0; k < kEstimators.size(); ++k) {
      const Tally& t = tallies[k];
      std::printf("%-10s %9.3f %10.3f %10.4f %9.4f %8.2f %7.2f %9.3f\n", kEstimators[k].c_str(),
                  t.share(t.covered), t.share(t.covered_same), t.bias(), t.mean_se(),
                  t.bias() / t.mean_se(), t.sd() / t.mean_se(), t.share(t.missed_by_5_se));
    }
    std::fflush(stdout);

    // If an interval covers with probability 0.95, the count C over 200
    // independent seeds is Binomial(200, 0.95): mean 190, sd
    // sqrt(200 · 0.95 · 0.05) = 3.08 (0.015 as a share). Exact tails:
    // P(C <= 178) = 1.9e-4 and P(C = 200) = 3.5e-5, so the band 179 <= C <= 199
    // (0.895 to 0.995) fails by chance with probability 2.3e-4 per check and
    // about 2e-3 for the eight checks below.
    for (const std::string name : {"ips", "snips", "dr", "sndr"}) {
      std::size_t k = 0;
      while (kEstimators[k] != name) ++k;
      INFO("logger " << logger.name << ", " << name << ": " << tallies[k].covered << " of " << kSeeds);
      CHECK(tallies[k].covered >= 179);
      CHECK(tallies[k].covered <= 199);
    }
    // The loggers are biased: the naive mean is far from V on (nearly) every seed.
    CHECK(tallies[0].share(tallies[0].missed_by_5_se) >= 0.95);
  }
}

// SPDX-License-Identifier: Apache-2.0
#include "policies/softmax.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/rng.h"
#include "policies/registry.h"
#include "tests/policies/bandit_fixtures.h"
#include "tests/policies/policy_fixtures.h"
#include "tests/support/pmf_checks.h"

using namespace recloop;
using Catch::Matchers::Contains;
using recloop::testing::BernoulliArms;
using recloop::testing::make_interaction;
using recloop::testing::random_context;

TEST_CASE("softmax_pmf is proportional to exp(score / temperature)", "[policies]") {
  const std::vector<double> scores{1.0, 0.0, -0.5, 1.0};
  const auto pmf = softmax_pmf(scores, 0.5);
  const double total = 2.0 * std::exp(2.0) + 1.0 + std::exp(-1.0);
  REQUIRE(pmf[0] == Approx(std::exp(2.0) / total));
  REQUIRE(pmf[1] == Approx(1.0 / total));
  REQUIRE(pmf[2] == Approx(std::exp(-1.0) / total));
  REQUIRE(pmf[3] == pmf[0]);
}

TEST_CASE("softmax_pmf does not overflow on huge scores", "[policies]") {
  // exp(1e308 / 1e-3) overflows without the shift by the maximum.
  const std::vector<double> scores{1e308, 1e308 - 1e293, -1e308};
  const auto pmf = softmax_pmf(scores, 1e-3);
  testing::require_valid_pmf(pmf, 3);
  REQUIRE(pmf == std::vector<double>{1.0, 0.0, 0.0});
}

TEST_CASE("softmax with a huge temperature is uniform", "[policies]") {
  const std::vector<double> scores{3.0, -7.0, 0.5, 100.0};
  for (double p : softmax_pmf(scores, 1e300)) REQUIRE(p == 0.25);
}

TEST_CASE("softmax with a tiny temperature is greedy, sharing the mass between ties",
          "[policies]") {
  const std::vector<double> scores{0.3, 0.7, 0.7 - 1e-12, 0.7};
  REQUIRE(softmax_pmf(scores, 1e-300) == std::vector<double>{0.0, 0.5, 0.0, 0.5});
}

TEST_CASE("softmax_pmf rejects empty or non-finite input and a bad temperature", "[policies]") {
  const std::vector<double> scores{0.0, 1.0};
  const std::vector<double> nan_score{0.0, std::nan("")};
  REQUIRE_THROWS_AS(softmax_pmf({}, 1.0), std::invalid_argument);
  REQUIRE_THROWS_AS(softmax_pmf(nan_score, 1.0), std::invalid_argument);
  REQUIRE_THROWS_AS(softmax_pmf(scores, 0.0), std::invalid_argument);
  REQUIRE_THROWS_AS(softmax_pmf(scores, std::numeric_limits<double>::infinity()),
                    std::invalid_argument);
}

TEST_CASE("a fresh softmax policy is uniform", "[policies]") {
  Rng rng(1);
  Softmax policy({.temperature = 0.01});
  const Context context = random_context(rng, 3, 2, 9, 1'000'000);
  for (double p : policy.probabilities(context)) REQUIRE(p == Approx(1.0 / 9));
}

TEST_CASE("softmax plays each item with the Boltzmann weight of its sample mean", "[policies]") {
  const BernoulliArms arms({0.0, 0.0, 0.0});
  Softmax policy({.temperature = 0.25, .initial_value = 0.5});
  // Sample means: item 0 -> 1/3, item 1 -> 1, item 2 unseen (initial value 0.5).
  for (auto [action, reward] :
       std::vector<std::pair<ActionId, double>>{{0, 1.0}, {0, 0.0}, {0, 0.0}, {1, 1.0}}) {
    policy.update(make_interaction(arms.context(), action, reward));
  }
  const double w0 = std::exp((1.0 / 3.0) / 0.25), w1 = std::exp(1.0 / 0.25), w2 = std::exp(2.0);
  const auto pmf = policy.probabilities(arms.context());
  REQUIRE(pmf[0] == Approx(w0 / (w0 + w1 + w2)));
  REQUIRE(pmf[1] == Approx(w1 / (w0 + w1 + w2)));
  REQUIRE(pmf[2] == Approx(w2 / (w0 + w1 + w2)));
  REQUIRE(policy.model_version() == 4);
  REQUIRE(policy.means().item_count() == 2);
}

TEST_CASE("softmax reads no features and accepts any feature dimension", "[policies]") {
  Rng rng(2);
  Softmax policy({});
  for (int dim : {0, 1, 7}) {
    const Context context = random_context(rng, dim, 0, 4, 10);
    testing::require_valid_pmf(policy.probabilities(context), 4);
    policy.update(make_interaction(context, 1, 1.0));
  }
}

TEST_CASE("softmax reloads bit-identical", "[policies]") {
  Softmax policy({.temperature = 0.05, .initial_value = 0.2});
  testing::require_bit_identical_reload(policy, 12);
}

TEST_CASE("softmax settings are read from a section with defaults and ranges", "[policies]") {
  ConfigSection empty("policy", "x.ini");
  REQUIRE(Softmax::Config::from(empty) == Softmax::Config{});

  ConfigSection set("policy", "x.ini");
  set.set("temperature", "2.5");
  set.set("initial_value", "1");
  REQUIRE(Softmax::Config::from(set) == Softmax::Config{.temperature = 2.5, .initial_value = 1.0});

  ConfigSection bad("policy", "x.ini");
  bad.set("temperature", "0");
  REQUIRE_THROWS_WITH(Softmax::Config::from(bad),
                      Contains("temperature") && Contains("'0'") && Contains("(0, inf)"));
  ConfigSection typo("policy", "x.ini");
  typo.set("temprature", "1");
  REQUIRE_THROWS_WITH(make_policy("softmax", typo, 4), Contains("temprature"));
}

TEST_CASE("softmax rejects bad constructor arguments with their values", "[policies]") {
  REQUIRE_THROWS_WITH(Softmax({.temperature = -2.0}), Contains("temperature") && Contains("-2"));
  REQUIRE_THROWS_AS(Softmax({.temperature = std::numeric_limits<double>::infinity()}),
                    std::invalid_argument);
  REQUIRE_THROWS_WITH(Softmax({.initial_value = std::nan("")}), Contains("initial_value"));
}

// ---------------------------------------------------------------------------
// Regret on Bernoulli arms with known click rates.

namespace {

const BernoulliArms kArms({0.5, 0.8, 0.2, 0.6, 0.4});
constexpr double kTemperature = 0.1;
constexpr int kSteps = 80000;

struct SoftmaxLimit {
  double regret_per_step;  // r* = sum_a p*(a) gap(a), p* = softmax(mu / temperature)
  double sd_at_half;       // delta-method standard deviation of the learnt r at t = T/2
};

// The Boltzmann policy on the true means, and how far the learnt one may be
// from it. With estimated means m_j (n_j pulls, variance s_j^2 = mu_j(1-mu_j)),
// r(m) = sum_a p_a(m) gap_a has dr/dm_j = (p_j / T) (gap_j - r), so
//   Var r ~ sum_j (p_j / T)^2 (gap_j - r)^2 s_j^2 / n_j,  with n_j ~ p_j t:
//         = (1 / (T^2 t)) sum_j p_j (gap_j - r)^2 s_j^2.
SoftmaxLimit softmax_limit(int t) {
  const auto& mu = kArms.means();
  const auto p = softmax_pmf(mu, kTemperature);
  const double best = kArms.best();
  double r = 0.0;
  for (std::size_t j = 0; j < mu.size(); ++j) r += p[j] * (best - mu[j]);
  double variance = 0.0;
  for (std::size_t j = 0; j < mu.size(); ++j) {
    variance += p[j] * std::pow(best - mu[j] - r, 2) * mu[j] * (1.0 - mu[j]);
  }
  variance /= kTemperature * kTemperature * t;
  return {r, std::sqrt(variance)};
}

double second_half_regret_per_step(std::uint64_t seed) {
  Softmax policy({.temperature = kTemperature});
  const auto regret = testing::bernoulli_regret(policy, kArms, seed, kSteps);
  return (regret[kSteps - 1] - regret[kSteps / 2 - 1]) / (kSteps / 2);
}

}  // namespace

TEST_CASE("softmax's regret per step approaches that of the Boltzmann policy on the true means",
          "[policies][statistical]") {
  // With a fixed temperature softmax never stops exploring: its regret is
  // linear, at the rate r* = sum_a p*(a) gap(a) = 0.042 of the Boltzmann pmf
  // on the true means (uniform play would lose 0.3 per step, greedy 0). The
  // learnt rate over the second half, T = 80,000, is an average of rates whose
  // standard deviation is at most that at t = T/2 (0.0023 by the delta method
  // above, 5.5% of r*); the test allows 4.5 of those (two-sided normal tail
  // 7e-6). Two effects the delta method leaves out shrink faster than that
  // standard deviation, as O(1/t): its curvature term, and the downward bias
  // of sample means collected adaptively (an arm that looks bad is pulled
  // less, so stays underestimated, so the learnt policy loses a little less
  // than r*). At T = 20,000 the bias was still -8% of r* over 100 seeds (a
  // third of the tolerance there); at T = 80,000 it is -0.8%. Over seeds 1-50
  // (the [.sweep] test, by hand) (rate - r*) / sd lay in [-2.1, 1.7].
  const auto limit = softmax_limit(kSteps / 2);
  const double rate = second_half_regret_per_step(2024);
  INFO("regret per step " << rate << ", limit " << limit.regret_per_step << " +- "
                          << limit.sd_at_half);
  REQUIRE(std::abs(rate - limit.regret_per_step) <= 4.5 * limit.sd_at_half);
}

TEST_CASE("softmax regret rate matches the Boltzmann limit across seeds", "[.sweep]") {
  const auto limit = softmax_limit(kSteps / 2);
  double lowest = 1e300, highest = -1e300;
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    const double z = (second_half_regret_per_step(seed) - limit.regret_per_step) / limit.sd_at_half;
    INFO("seed " << seed << ": z = " << z);
    CHECK(std::abs(z) <= 4.5);
    lowest = std::min(lowest, z);
    highest = std::max(highest, z);
  }
  WARN("softmax, seeds 1-50: (rate - limit) / sd in [" << lowest << ", " << highest << "]");
}

// SPDX-License-Identifier: Apache-2.0
#include "policies/bernoulli_thompson.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/error.h"
#include "core/model_io.h"
#include "core/rng.h"
#include "core/sampling.h"
#include "policies/registry.h"
#include "tests/policies/policy_fixtures.h"
#include "tests/policies/thompson_fixtures.h"
#include "tests/support/pmf_checks.h"

using namespace recloop;
using Catch::Matchers::Contains;
using recloop::testing::make_interaction;
using recloop::testing::random_context;

namespace {

// A context of the given items; features are never read by this policy.
Context items_context(std::vector<ItemId> items) {
  Context context;
  context.user = Eigen::VectorXd::Zero(1);
  context.actions = Eigen::MatrixXd::Zero(1, static_cast<Eigen::Index>(items.size()));
  context.items = std::move(items);
  return context;
}

// Feeds `successes` rewards of 1 and `failures` rewards of 0 to `item`.
void feed(BernoulliThompson& policy, ItemId item, int successes, int failures) {
  const Context context = items_context({item});
  for (int i = 0; i < successes; ++i) policy.update(make_interaction(context, 0, 1.0));
  for (int i = 0; i < failures; ++i) policy.update(make_interaction(context, 0, 0.0));
}

// Pseudo-regret at T/4 and T of Bernoulli Thompson sampling on Bernoulli arms
// with the given means, every arm offered at every step.
std::pair<double, double> bernoulli_regret(const std::vector<double>& means, std::uint64_t seed,
                                           int steps, int draws) {
  BernoulliThompson policy({.draws = draws, .seed = seed});
  std::vector<ItemId> items;
  for (std::size_t i = 0; i < means.size(); ++i) items.push_back(i);
  const Context context = items_context(items);
  Rng rng(stream_seed(seed, 1));
  double regret = 0.0;
  double at_quarter = 0.0;
  for (int t = 0; t < steps; ++t) {
    const auto decision = policy.choose(context, testing::event_id("t", t), seed);
    regret += testing::pmf_regret(decision.pmf, means);
    auto interaction = make_interaction(context, decision.action,
                                        bernoulli(rng, means[decision.action]),
                                        decision.probability);
    interaction.event_id = decision.event_id;
    policy.update(interaction);
    if (t + 1 == steps / 4) at_quarter = regret;
  }
  return {at_quarter, regret};
}

// Lai & Robbins 1985: sum over suboptimal arms of gap / KL(mu_i, mu_star).
double lai_robbins_constant(const std::vector<double>& means) {
  double best = 0.0;
  for (double m : means) best = std::max(best, m);
  double c = 0.0;
  for (double m : means) {
    if (m == best) continue;
    const double kl = m * std::log(m / best) + (1.0 - m) * std::log((1.0 - m) / (1.0 - best));
    c += (best - m) / kl;
  }
  return c;
}

const std::vector<double> kArmMeans{0.2, 0.3, 0.4, 0.5, 0.6};

}  // namespace

TEST_CASE("bernoulli_ts counts successes and failures per item, and only for items updated",
          "[policies]") {
  BernoulliThompson policy;
  feed(policy, 7, 3, 2);
  feed(policy, 9, 0, 4);
  REQUIRE(policy.counts(7) == BernoulliThompson::Counts{3, 2});
  REQUIRE(policy.counts(9) == BernoulliThompson::Counts{0, 4});
  REQUIRE(policy.counts(8) == BernoulliThompson::Counts{});
  REQUIRE(policy.arm_count() == 2);
  REQUIRE(policy.model_version() == 9);
  Rng rng(1);
  for (int i = 0; i < 10; ++i) policy.probabilities(random_context(rng, 2, 2, 50, 1000000));
  REQUIRE(policy.arm_count() == 2);
}

TEST_CASE("bernoulli_ts clips rewards to [0, 1]", "[policies]") {
  BernoulliThompson policy;
  const Context context = items_context({1});
  policy.update(make_interaction(context, 0, 1.7));
  policy.update(make_interaction(context, 0, -0.2));
  REQUIRE(policy.counts(1) == BernoulliThompson::Counts{1, 1});
  REQUIRE_THROWS_AS(policy.update(make_interaction(context, 0, std::nan(""))), std::logic_error);
}

TEST_CASE("a fractional reward is a success with that probability, replayably",
          "[policies][statistical]") {
  // Agrawal & Goyal 2012, Alg. 2. n = 4000 trials of r = 0.3: the success
  // frequency has se = sqrt(0.21 / n) = 0.0072; bound 5 se (false failure 6e-7).
  constexpr int kN = 4000;
  BernoulliThompson a({.seed = 3});
  BernoulliThompson b({.seed = 3});
  const Context context = items_context({5});
  for (int t = 0; t < kN; ++t) {
    auto interaction = make_interaction(context, 0, 0.3);
    interaction.event_id = testing::event_id("r", t);
    a.update(interaction);
    b.update(interaction);
  }
  const auto counts = a.counts(5);
  REQUIRE(counts == b.counts(5));
  const double frequency = static_cast<double>(counts.successes) / kN;
  REQUIRE(std::abs(frequency - 0.3) < 5.0 * std::sqrt(0.21 / kN));
}

TEST_CASE("bernoulli_ts probabilities match exact Thompson probabilities of the Beta posteriors",
          "[policies][statistical]") {
  // Posteriors Beta(1 + S, 1 + F) for four items (one never updated). Exact
  // P(a = argmax) by integrating pdf_a prod CDF_b over [0, 1] (trapezoid,
  // error < 1e-7 here). The floored estimate over M draws has expectation
  // (M p + 1/K) / (M + 1) and se sqrt(p (1 - p) / M) M / (M + 1): within 5 se
  // per entry (false failure 5.7e-7 each), for M = 1000 and M = 5000.
  BernoulliThompson trained;
  feed(trained, 1, 2, 4);
  feed(trained, 2, 5, 3);
  feed(trained, 3, 1, 1);
  const Context context = items_context({1, 2, 3, 4});
  const std::vector<std::pair<double, double>> beta{{3, 5}, {6, 4}, {2, 2}, {1, 1}};
  std::vector<std::function<double(double)>> pdfs;
  for (const auto& [a, b] : beta) {
    pdfs.push_back([a, b](double t) { return testing::beta_pdf(t, a, b); });
  }
  const auto exact = testing::exact_argmax_pmf(pdfs, 0.0, 1.0, 100000);
  for (int draws : {1000, 5000}) {
    BernoulliThompson policy({.draws = draws});
    feed(policy, 1, 2, 4);
    feed(policy, 2, 5, 3);
    feed(policy, 3, 1, 1);
    const auto pmf = policy.probabilities(context);
    testing::require_valid_pmf(pmf, 4);
    for (std::size_t a = 0; a < 4; ++a) {
      INFO("M = " << draws << ", candidate " << a << ": exact " << exact[a] << ", estimate "
                  << pmf[a]);
      REQUIRE(std::abs(pmf[a] - testing::expected_floored(exact[a], draws, 4)) <
              5.0 * testing::floored_standard_error(exact[a], draws) + 1e-6);
    }
  }
}

TEST_CASE("bernoulli_ts gives an arm that never wins exactly the floor 1 / (K (M + 1))",
          "[policies]") {
  // Beta(1001, 1) against Beta(1, 1001): the second never wins a draw.
  BernoulliThompson policy({.draws = 200});
  feed(policy, 1, 1000, 0);
  feed(policy, 2, 0, 1000);
  const auto pmf = policy.probabilities(items_context({1, 2}));
  REQUIRE(pmf[1] == (1.0 / 2.0) / 201.0);
  REQUIRE(pmf[0] == (200.0 + 1.0 / 2.0) / 201.0);
}

TEST_CASE("bernoulli_ts probabilities are a function of state and context alone", "[policies]") {
  BernoulliThompson policy({.seed = 9});
  feed(policy, 1, 3, 1);
  feed(policy, 2, 1, 3);
  const Context context = items_context({1, 2, 3});
  const auto pmf = policy.probabilities(context);
  REQUIRE(policy.probabilities(context) == pmf);
  REQUIRE(policy.clone()->probabilities(context) == pmf);
  const auto decision = policy.choose(context, "id", 4);
  REQUIRE(decision.pmf == pmf);
  REQUIRE(decision.probability == pmf[decision.action]);
  // Another seed, another model version or another candidate order draws afresh.
  BernoulliThompson reseeded({.seed = 10});
  feed(reseeded, 1, 3, 1);
  feed(reseeded, 2, 1, 3);
  REQUIRE(reseeded.probabilities(context) != pmf);
}

TEST_CASE("bernoulli_ts regret grows logarithmically on Bernoulli arms",
          "[policies][statistical]") {
  // Arms 0.2 ... 0.6, T = 3000, M = 100 draws per pmf, one fixed seed. The
  // measure is the pseudo-regret of the pmf played. Thompson sampling attains
  // the Lai & Robbins rate: regret ~ C ln T with C = sum gap / KL = 10.2 here
  // (Agrawal & Goyal 2013, "Further optimal regret bounds", Theorem 1;
  // Kaufmann, Korda & Munos 2012). Checked: (1) regret(T) / regret(T/4) < 3,
  // between logarithmic growth (ln 3000 / ln 750 = 1.21, plus noise: early
  // regret is small) and linear growth (4); (2) regret(T) < 2 C ln T = 163,
  // while uniform play pays 0.2 T = 600. The pmf played includes the floor's
  // uniform share (monte_carlo_pmf.h), 0.2 T / (M + 1) = 6 here. Over seeds
  // 1-20 (the hidden [.sweep] test below, run by hand) the ratio lay in
  // [1.25, 2.52] and regret / (C ln T) in [0.25, 0.76].
  const auto [quarter, end] = bernoulli_regret(kArmMeans, 2024, 3000, 100);
  const double bound = lai_robbins_constant(kArmMeans) * std::log(3000.0);
  INFO("regret " << quarter << " at T/4, " << end << " at T; C ln T = " << bound);
  REQUIRE(end / quarter < 3.0);
  REQUIRE(end < 2.0 * bound);
}

TEST_CASE("bernoulli_ts regret bounds hold across seeds", "[.sweep]") {
  const double bound = lai_robbins_constant(kArmMeans) * std::log(3000.0);
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const auto [quarter, end] = bernoulli_regret(kArmMeans, seed, 3000, 100);
    INFO("seed " << seed << ": regret " << quarter << " -> " << end << ", ratio " << end / quarter
                 << ", regret / (C ln T) " << end / bound);
    CHECK(end / quarter < 3.0);
    CHECK(end < 2.0 * bound);
  }
}

TEST_CASE("bernoulli_ts reloads bit-identical and refuses inconsistent data", "[policies]") {
  BernoulliThompson policy({.prior_alpha = 0.5, .prior_beta = 2.0, .draws = 300, .seed = 8});
  feed(policy, 3, 4, 1);
  feed(policy, 1, 0, 2);
  ModelWriter out;
  policy.save(out);
  const std::string bytes = out.bytes();
  ModelReader in(bytes);
  const auto reloaded = load_policy("bernoulli_ts", in);
  REQUIRE(in.at_end());
  const auto& copy = dynamic_cast<const BernoulliThompson&>(*reloaded);
  REQUIRE(copy.config() == policy.config());
  REQUIRE(copy.counts(3) == policy.counts(3));
  REQUIRE(copy.model_version() == policy.model_version());
  const Context context = items_context({1, 2, 3});
  REQUIRE(copy.probabilities(context) == policy.probabilities(context));

  SECTION("truncated") {
    ModelReader short_in(std::string_view(bytes).substr(0, bytes.size() - 3));
    REQUIRE_THROWS_AS(load_policy("bernoulli_ts", short_in), Error);
  }
  SECTION("counts that do not add up to the model version") {
    ModelWriter bad;
    bad.put_f64(1.0);
    bad.put_f64(1.0);
    bad.put_u64(100);
    bad.put_u64(0);
    bad.put_u64(4);  // version 4
    bad.put_u64s(std::vector<std::uint64_t>{1});
    bad.put_u64s(std::vector<std::uint64_t>{1});
    bad.put_u64s(std::vector<std::uint64_t>{1});  // 2 observations
    ModelReader bad_in(bad.bytes());
    REQUIRE_THROWS_WITH(load_policy("bernoulli_ts", bad_in),
                        Contains("version 4") && Contains("2 observations"));
  }
  SECTION("a bad config value") {
    ModelWriter bad;
    bad.put_f64(-1.0);
    const std::string padded = bad.bytes() + std::string(64, '\0');
    ModelReader bad_in(padded);
    REQUIRE_THROWS_WITH(load_policy("bernoulli_ts", bad_in), Contains("prior_alpha"));
  }
}

TEST_CASE("bernoulli_ts settings are read with defaults and ranges", "[policies]") {
  ConfigSection empty("policy", "x.ini");
  REQUIRE(BernoulliThompson::Config::from(empty) == BernoulliThompson::Config{});
  ConfigSection set("policy", "x.ini");
  set.set("prior_alpha", "2");
  set.set("prior_beta", "0.5");
  set.set("draws", "64");
  set.set("seed", "12");
  REQUIRE(BernoulliThompson::Config::from(set) ==
          BernoulliThompson::Config{.prior_alpha = 2, .prior_beta = 0.5, .draws = 64, .seed = 12});
  ConfigSection bad_prior("policy", "x.ini");
  bad_prior.set("prior_beta", "0");
  REQUIRE_THROWS_WITH(BernoulliThompson::Config::from(bad_prior),
                      Contains("prior_beta") && Contains("'0'") && Contains("(0, inf)"));
  ConfigSection bad_draws("policy", "x.ini");
  bad_draws.set("draws", "2000000");
  REQUIRE_THROWS_WITH(BernoulliThompson::Config::from(bad_draws),
                      Contains("draws") && Contains("[1, 1000000]"));
}

TEST_CASE("bernoulli_ts rejects bad constructor arguments with their values", "[policies]") {
  REQUIRE_THROWS_WITH(BernoulliThompson({.prior_alpha = -1.5}),
                      Contains("prior_alpha") && Contains("-1.5"));
  REQUIRE_THROWS_WITH(BernoulliThompson({.prior_beta = 0.0}), Contains("prior_beta"));
  REQUIRE_THROWS_WITH(BernoulliThompson({.draws = 0}), Contains("draws = 0"));
}

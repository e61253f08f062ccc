// SPDX-License-Identifier: Apache-2.0
// The selection-bias report on hand-made logs whose figures follow from the
// definitions, and the Gini coefficient against its closed forms.
#include "evaluation/bias_report.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

using namespace recloop;

namespace {

// An interaction over `n` candidates (items 100, 101, ...) choosing `action`
// with logged probability `p`, at `slot`, logged by `policy`.
Interaction logged(const std::string& policy, ActionId action, double p, double reward,
                   std::uint32_t slot = 0, int n = 2) {
  Interaction i;
  i.event_id = policy + "-" + std::to_string(action) + "-" + std::to_string(reward);
  i.context.user = Eigen::VectorXd::Zero(1);
  i.context.actions = Eigen::MatrixXd::Zero(1, n);
  for (int a = 0; a < n; ++a) i.context.items.push_back(100 + static_cast<ItemId>(a));
  i.action = action;
  i.probability = p;
  i.reward = reward;
  i.policy = policy;
  i.slot = slot;
  return i;
}

const PolicyBias& find(const BiasReport& report, const std::string& policy) {
  for (const auto& b : report.policies) {
    if (b.policy == policy) return b;
  }
  throw std::logic_error("no policy " + policy);
}

}  // namespace

TEST_CASE("the Gini coefficient is 0 for equal exposure and (n-1)/n for all on one item",
          "[evaluation]") {
  for (const std::size_t n : {1u, 2u, 5u, 300u}) {
    CHECK(gini(std::vector<double>(n, 7.0)) == Approx(0.0).margin(1e-15));
    std::vector<double> one(n, 0.0);
    one[n / 2] = 42.0;
    const double expected = (static_cast<double>(n) - 1.0) / static_cast<double>(n);
    CHECK(gini(one) == Approx(expected).epsilon(1e-14));
  }
}

TEST_CASE("the Gini coefficient equals the mean absolute difference over twice the mean",
          "[evaluation]") {
  // {3, 1, 2}: Σ_{i,j} |x_i - x_j| = 2·(1 + 2 + 1) = 8, n² = 9, mean 2:
  // G = 8 / (2 · 9 · 2) = 2/9.
  CHECK(gini(std::vector<double>{3.0, 1.0, 2.0}) == Approx(2.0 / 9.0).epsilon(1e-14));
  CHECK(gini(std::vector<double>{}) == 0.0);
  CHECK(gini(std::vector<double>{0.0, 0.0}) == 0.0);
  CHECK_THROWS_AS(gini(std::vector<double>{1.0, -1.0}), std::invalid_argument);
}

TEST_CASE("exposure counts give coverage, Gini and the popularity lift of the top items",
          "[evaluation]") {
  // Four items, two never shown, two shown 5 times each.
  const ExposureSummary s = summarize_exposure({5, 0, 5, 0});
  CHECK(s.catalogue == 4);
  CHECK(s.shown == 2);
  CHECK(s.coverage == 0.5);
  // Sorted {0, 0, 5, 5}: Σ (2i - 5) x_(i) = 1·5 + 3·5 = 20, n Σx = 40.
  CHECK(s.gini == Approx(0.5).epsilon(1e-14));
  // Top 10% of 4 items rounds up to 1 item holding 5 of 10 exposures, against 1/4 when even.
  CHECK(s.top_items == 1);
  CHECK(s.top_share == 0.5);
  CHECK(s.uniform_top_share == 0.25);
  CHECK(s.popularity_lift == 2.0);
  CHECK(s.sorted_counts == std::vector<std::size_t>{0, 0, 5, 5});
  // 10% of 30 items is 3 items, not 4.
  CHECK(summarize_exposure(std::vector<std::size_t>(30, 1)).top_items == 3);
  CHECK(summarize_exposure(std::vector<std::size_t>(30, 1)).popularity_lift == Approx(1.0));
}

TEST_CASE("the bias report weights a hand-made log to uniform exposure", "[evaluation]") {
  // Two candidates; the logger takes item 100 with probability 0.8. Uniform
  // exposure gives each 1/2, so the weights are 0.5/0.8 = 0.625 and 0.5/0.2 = 2.5.
  BiasReportBuilder builder;
  builder.add(logged("logger", 0, 0.8, 1.0, 0));
  builder.add(logged("logger", 0, 0.8, 1.0, 0));
  builder.add(logged("logger", 1, 0.2, 0.0, 1));
  builder.add(logged("logger", 0, 0.8, 0.0, 1));
  const BiasReport report = builder.report();
  REQUIRE(report.policies.size() == 1);
  const PolicyBias& b = report.policies[0];
  CHECK(b.n == 4);
  CHECK_FALSE(b.uniform_logger);
  CHECK(report.reference.empty());
  CHECK(b.naive.value == Approx(0.5));
  // IPS: (0.625 + 0.625 + 0 + 0) / 4; SNIPS: 1.25 / (3·0.625 + 2.5) = 2/7.
  CHECK(b.ips.value == Approx(1.25 / 4.0).epsilon(1e-14));
  CHECK(b.snips.value == Approx(2.0 / 7.0).epsilon(1e-14));
  // The reward distribution weighted the same way.
  REQUIRE(b.levels.size() == 2);
  CHECK(b.levels[0].reward == 0.0);
  CHECK(b.levels[0].count == 2);
  CHECK(b.levels[0].naive_share == 0.5);
  CHECK(b.levels[0].weighted_share == Approx(5.0 / 7.0).epsilon(1e-14));
  CHECK(b.levels[1].weighted_share == Approx(2.0 / 7.0).epsilon(1e-14));
  // Slots: slot 0 mean 1, slot 1 mean 0, so the ratio is 0.
  REQUIRE(b.slots.size() == 2);
  CHECK(b.slots[0].mean_reward == 1.0);
  CHECK(b.slots[0].ratio_to_first == 1.0);
  CHECK(b.slots[1].mean_reward == 0.0);
  CHECK(b.slots[1].ratio_to_first == 0.0);
  // Exposure: item 100 chosen 3 times, item 101 once.
  CHECK(b.exposure.catalogue == 2);
  CHECK(b.exposure.coverage == 1.0);
  CHECK(b.exposure.gini == Approx((-1.0 * 1 + 1.0 * 3) / (2.0 * 4.0)));
  // 1/p = 1.25, 1.25, 5, 1.25: ESS = (Σ 1/p)² / Σ 1/p².
  const double sum = 3 * 1.25 + 5.0, sum_squares = 3 * 1.25 * 1.25 + 25.0;
  CHECK(b.propensities.effective_sample_size == Approx(sum * sum / sum_squares).epsilon(1e-14));
  CHECK(b.weights.effective_sample_size == Approx(sum * sum / sum_squares).epsilon(1e-12));
  CHECK(b.propensities.min == 0.2);
  CHECK(b.propensities.p50 == 0.8);
  CHECK(b.propensities.max == 0.8);
  std::size_t binned = 0;
  for (const auto& bin : b.propensities.histogram) binned += bin.count;
  CHECK(binned == 4);
}

TEST_CASE("a uniform logger becomes the reference and the gaps are measured against its mean",
          "[evaluation]") {
  BiasReportBuilder builder;
  // Uniform logger over two candidates: mean reward 0.25.
  builder.add(logged("random", 0, 0.5, 0.0));
  builder.add(logged("random", 1, 0.5, 1.0));
  builder.add(logged("random", 0, 0.5, 0.0));
  builder.add(logged("random", 1, 0.5, 0.0));
  // The selected log of the previous test: naive 0.5, IPS 0.3125, SNIPS 2/7.
  builder.add(logged("selected", 0, 0.8, 1.0));
  builder.add(logged("selected", 0, 0.8, 1.0));
  builder.add(logged("selected", 1, 0.2, 0.0));
  builder.add(logged("selected", 0, 0.8, 0.0));
  const BiasReport report = builder.report();
  CHECK(report.reference == "random");
  CHECK(find(report, "random").uniform_logger);
  REQUIRE(report.gaps.size() == 1);
  const BiasGap& g = report.gaps[0];
  CHECK(g.policy == "selected");
  CHECK(g.reference_value == Approx(0.25));
  CHECK(g.naive_gap == Approx(0.25));
  CHECK(g.ips_gap == Approx(0.0625));
  CHECK(g.snips_gap == Approx(2.0 / 7.0 - 0.25));
  CHECK(g.snips_closes == Approx(1.0 - (2.0 / 7.0 - 0.25) / 0.25));
  const double se =
      std::hypot(find(report, "selected").naive.std_error, find(report, "random").naive.std_error);
  CHECK(g.naive_gap_std_error == Approx(se));
  // Without a uniform logger there is no reference unless one is named.
  CHECK(builder.report("selected").reference == "selected");
  CHECK_THROWS_AS(builder.report("nobody"), std::invalid_argument);
}

TEST_CASE("continuous rewards get no reward distribution", "[evaluation]") {
  BiasReportBuilder builder;
  builder.add(logged("logger", 0, 0.5, 0.25));
  builder.add(logged("logger", 1, 0.5, 1.0));
  CHECK(builder.report().policies[0].levels.empty());
  BiasReportBuilder many;
  for (int r = 0; r < 11; ++r) many.add(logged("logger", 0, 0.5, r));
  CHECK(many.report().policies[0].levels.empty());
}

TEST_CASE("the bias report refuses an interaction without a valid probability", "[evaluation]") {
  BiasReportBuilder builder;
  CHECK_THROWS_AS(builder.add(logged("logger", 0, 0.0, 1.0)), std::invalid_argument);
  CHECK(builder.policies().empty());
  CHECK(builder.report().policies.empty());
}

TEST_CASE("a deterministic logger is named as one that weighting cannot correct", "[evaluation]") {
  BiasReportBuilder builder;
  builder.add(logged("greedy", 0, 1.0, 1.0));
  builder.add(logged("greedy", 0, 1.0, 0.0));
  const PolicyBias b = builder.report().policies[0];
  REQUIRE_FALSE(b.warnings.empty());
  CHECK_THAT(b.warnings[0], Catch::Matchers::Contains("deterministic"));
  BiasReportBuilder random;
  random.add(logged("random", 0, 0.5, 1.0));
  random.add(logged("random", 1, 0.5, 0.0));
  const BiasReport report = random.report();
  for (const auto& warning : report.policies[0].warnings) {
    CHECK_THAT(warning, !Catch::Matchers::Contains("deterministic"));
  }
}

// SPDX-License-Identifier: Apache-2.0
#include "simulator/choice_model.h"

#include <array>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "core/rng.h"
#include "core/sampling.h"

using namespace recloop;

namespace {

const std::array<ChoiceModelKind, 4> kAllModels{
    ChoiceModelKind::kMultinomialLogit, ChoiceModelKind::kCascade,
    ChoiceModelKind::kPositionBased, ChoiceModelKind::kMultiClick};

double logit_of(double a) { return std::log(a / (1.0 - a)); }

std::vector<double> probabilities(const ChoiceModel& model, const std::vector<double>& logits) {
  std::vector<double> out(logits.size() + 1);
  model.probabilities(logits, out);
  return out;
}

}  // namespace

TEST_CASE("single-click choice models give outcome probabilities that sum to one", "[simulator]") {
  Rng rng(1);
  for (const auto kind : kAllModels) {
    SECTION(std::string(choice_model_name(kind))) {
      const ChoiceModel model({.kind = kind, .position_decay = 0.7, .no_click_utility = 0.3});
      for (std::size_t slots = 1; slots <= 12; ++slots) {
        std::vector<double> logits(slots);
        for (double& x : logits) x = 3.0 * standard_normal(rng);
        const auto p = probabilities(model, logits);
        for (double q : p) REQUIRE((q >= 0.0 && q <= 1.0));
        if (model.single_click()) {
          REQUIRE(std::accumulate(p.begin(), p.end(), 0.0) == Approx(1.0).margin(1e-12));
        } else {
          // Multi-click: the last entry is P(no click at all) = prod (1 - p_k).
          double none = 1.0;
          for (std::size_t k = 0; k < slots; ++k) none *= 1.0 - p[k];
          REQUIRE(p[slots] == Approx(none).margin(1e-15));
        }
      }
    }
  }
}

TEST_CASE("choice models match their closed forms on a two-slot example", "[simulator]") {
  // Attractiveness a = (1/2, 1/4); mnl utilities (0, ln 2) against u0 = 0.
  const std::vector<double> logits{logit_of(0.5), logit_of(0.25)};
  SECTION("mnl: weights 1, 2 and 1 for no click") {
    const ChoiceModel model({.kind = ChoiceModelKind::kMultinomialLogit});
    const auto p = probabilities(model, {0.0, std::log(2.0)});
    REQUIRE(p[0] == Approx(0.25));
    REQUIRE(p[1] == Approx(0.5));
    REQUIRE(p[2] == Approx(0.25));
  }
  SECTION("cascade: a_1 and (1 - a_1) a_2") {
    const auto p = probabilities(ChoiceModel({.kind = ChoiceModelKind::kCascade}), logits);
    REQUIRE(p[0] == Approx(0.5));
    REQUIRE(p[1] == Approx(0.125));
    REQUIRE(p[2] == Approx(0.375));
  }
  SECTION("pbm: theta = (1, 1/2), Z = 3/2, e = (2/3, 1/3)") {
    const ChoiceModel model({.kind = ChoiceModelKind::kPositionBased, .position_decay = 1.0});
    const auto p = probabilities(model, logits);
    REQUIRE(p[0] == Approx(1.0 / 3.0));
    REQUIRE(p[1] == Approx(1.0 / 12.0));
    REQUIRE(p[2] == Approx(7.0 / 12.0));
    REQUIRE(model.examination(1, 2) == Approx(1.0 / 3.0));
  }
  SECTION("multi_click: theta_k a_k, independent") {
    const ChoiceModel model({.kind = ChoiceModelKind::kMultiClick, .position_decay = 1.0});
    const auto p = probabilities(model, logits);
    REQUIRE(p[0] == Approx(0.5));
    REQUIRE(p[1] == Approx(0.125));
    REQUIRE(p[2] == Approx(0.5 * 0.875));
  }
}

TEST_CASE("a single slot is clicked with its attractiveness under every model", "[simulator]") {
  for (const double x : {-3.0, -0.4, 0.0, 1.7}) {
    for (const auto kind : kAllModels) {
      const ChoiceModel model({.kind = kind, .position_decay = 2.0, .no_click_utility = 0.0});
      const auto p = probabilities(model, {x});
      REQUIRE(p[0] == Approx(1.0 / (1.0 + std::exp(-x))));
    }
  }
  // mnl with a no-click utility u0: sigmoid(x - u0).
  const ChoiceModel mnl({.kind = ChoiceModelKind::kMultinomialLogit, .no_click_utility = 1.5});
  REQUIRE(probabilities(mnl, {0.5})[0] == Approx(1.0 / (1.0 + std::exp(1.0))));
}

TEST_CASE("examination decays as (k + 1)^-eta, and eta = 0 examines every slot", "[simulator]") {
  const ChoiceModel decaying({.kind = ChoiceModelKind::kMultiClick, .position_decay = 0.5});
  for (std::size_t k = 0; k < 10; ++k) {
    REQUIRE(decaying.theta(k) == Approx(1.0 / std::sqrt(static_cast<double>(k + 1))));
  }
  const ChoiceModel flat({.kind = ChoiceModelKind::kMultiClick, .position_decay = 0.0});
  const auto p = probabilities(flat, {0.0, 0.0, 0.0});
  for (std::size_t k = 0; k < 3; ++k) REQUIRE(p[k] == 0.5);
}

TEST_CASE("an out-of-range choice model setting or name is rejected", "[simulator]") {
  REQUIRE_THROWS_AS(ChoiceModel({.position_decay = -1.0}), std::invalid_argument);
  REQUIRE_THROWS_AS(ChoiceModel({.no_click_utility = 50.0}), std::invalid_argument);
  REQUIRE_THROWS_AS(parse_choice_model("dbn"), std::invalid_argument);
  for (const auto& name : choice_model_names()) {
    REQUIRE(choice_model_name(parse_choice_model(name)) == name);
  }
}

TEST_CASE("sampled click outcomes match every model's probabilities",
          "[simulator][statistical]") {
  // Single-click models: n = 200,000 slates of 5 slots, 6 exclusive outcomes.
  // Pearson's statistic sum (O - E)^2 / E is chi-square with 5 degrees of
  // freedom under the model; P(X > 35.89) = 1e-6 (Pearson 1900; quantile
  // from the regularised incomplete gamma function). Multi-click: each slot
  // is Bernoulli(p_k), SE = sqrt(p_k (1 - p_k) / n); 5 SE fails with
  // probability 6e-7 per slot.
  const std::vector<double> logits{0.8, -0.3, 1.5, -1.2, 0.1};
  const std::size_t slots = logits.size();
  constexpr int n = 200000;
  for (const auto kind : kAllModels) {
    SECTION(std::string(choice_model_name(kind))) {
      const ChoiceModel model({.kind = kind, .position_decay = 0.8, .no_click_utility = 0.5});
      const auto p = probabilities(model, logits);
      Rng rng(42);
      std::vector<double> counts(slots + 1, 0.0);
      std::vector<double> uniforms(slots);
      std::vector<std::uint8_t> clicks(slots);
      for (int t = 0; t < n; ++t) {
        for (std::size_t k = 0; k < model.uniforms_needed(slots); ++k) uniforms[k] = uniform01(rng);
        model.sample(p, uniforms, clicks);
        int clicked = 0;
        for (std::size_t k = 0; k < slots; ++k) {
          counts[k] += clicks[k];
          clicked += clicks[k];
        }
        if (clicked == 0) counts[slots] += 1.0;
        if (model.single_click()) REQUIRE(clicked <= 1);
      }
      if (model.single_click()) {
        double chi_square = 0.0;
        for (std::size_t k = 0; k <= slots; ++k) {
          const double expected = n * p[k];
          chi_square += (counts[k] - expected) * (counts[k] - expected) / expected;
        }
        REQUIRE(chi_square < 35.89);
      } else {
        for (std::size_t k = 0; k <= slots; ++k) {
          const double se = std::sqrt(p[k] * (1.0 - p[k]) / n);
          REQUIRE(counts[k] / n == Approx(p[k]).margin(5.0 * se));
        }
      }
    }
  }
}

// SPDX-License-Identifier: Apache-2.0
#include "cli/offline_evaluation.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "core/error.h"
#include "core/rng.h"
#include "evaluation/bootstrap.h"
#include "evaluation/dr_terms.h"
#include "evaluation/exact_sum.h"
#include "evaluation/naive.h"
#include "evaluation/registry.h"
#include "evaluation/cross_fit.h"
#include "evaluation/ridge_reward_model.h"
#include "evaluation/tabular_reward_model.h"
#include "evaluation/true_value.h"

namespace recloop {
namespace {

// Event ids named in an error before "... and N more".
constexpr std::size_t kEventsNamed = 10;

// Lists every interaction no estimator may weight, so one run reports them all.
void check_log(const std::vector<Interaction>& log) {
  std::vector<std::string> bad_probability, bad_reward;
  for (const auto& i : log) {
    if (!(i.probability > 0.0 && i.probability <= 1.0)) bad_probability.push_back(i.event_id);
    if (!std::isfinite(i.reward)) bad_reward.push_back(i.event_id);
  }
  auto describe = [](const std::vector<std::string>& ids, const std::string& what) {
    std::string text = std::to_string(ids.size()) + " interactions with " + what + " (events ";
    for (std::size_t k = 0; k < ids.size() && k < kEventsNamed; ++k) text += (k ? ", " : "") + ids[k];
    if (ids.size() > kEventsNamed) text += " and " + std::to_string(ids.size() - kEventsNamed) + " more";
    return text + ")";
  };
  std::string message;
  if (!bad_probability.empty()) {
    message = describe(bad_probability, "a missing, zero or above-1 logged probability");
  }
  if (!bad_reward.empty()) {
    message += (message.empty() ? "" : "; ") + describe(bad_reward, "a reward that is not a finite number");
  }
  if (!message.empty()) throw Error(message + "; nothing was estimated");
}

std::shared_ptr<const RewardModel> fit_reward_model(const std::vector<Interaction>& log,
                                                    RewardModelKind kind) {
  if (kind == RewardModelKind::tabular) {
    auto model = std::make_shared<TabularRewardModel>();
    for (const auto& interaction : log) model->add(interaction);
    return model;
  }
  auto model = std::make_shared<RidgeRewardModel>(RidgeRewardModel::Config{},
                                                  log.front().context.feature_dim());
  for (const auto& interaction : log) model->add(interaction);
  model->fit();
  return model;
}

// The estimators whose value is Σa_i/Σb_i of per-row terms, and those terms.
enum class RatioForm { none, naive, ips, snips, dm, dr, dr_cross_fit };

RatioForm ratio_form(const std::string& name) {
  if (name == "naive") return RatioForm::naive;
  if (name == "ips") return RatioForm::ips;
  if (name == "snips") return RatioForm::snips;
  if (name == "dm") return RatioForm::dm;
  if (name == "dr") return RatioForm::dr;
  if (name == "dr_cross_fit") return RatioForm::dr_cross_fit;
  return RatioForm::none;
}

// Empirical-Bernstein lower bound on the mean of `terms` (denominators 1) at
// level 1 - delta, over the observed range widened to include 0.
double safe_lower_bound(const std::vector<BootstrapRow>& rows, double delta) {
  if (rows.size() < 2) return EstimateBounds::kNaN;
  double low = 0.0, high = 0.0;
  for (const BootstrapRow& row : rows) {
    low = std::min(low, row.numerator);
    high = std::max(high, row.numerator);
  }
  if (!(high > low)) return low;  // every term is 0
  ExactMoments shifted;
  for (const BootstrapRow& row : rows) shifted.add(row.numerator - low);
  return low + empirical_bernstein_lower_bound(shifted.count(), shifted.mean(),
                                               shifted.sample_variance(), high - low, delta);
}

}  // namespace

OfflineEvaluation evaluate_offline(const std::vector<Interaction>& log, const TargetPmf& target,
                                   const std::string& target_name,
                                   const std::vector<std::string>& estimator_names, double alpha,
                                   RewardModelKind reward_model, const BootstrapOptions& bootstrap) {
  if (log.empty()) throw Error("no logged interactions to evaluate on");
  check_log(log);
  const auto model = fit_reward_model(log, reward_model);

  std::vector<std::unique_ptr<Estimator>> estimators;
  std::shared_ptr<const CrossFitRewardModel> cross_fit;
  for (const auto& name : estimator_names) {
    if (name == "dr_cross_fit") {
      // DR with a reward model fit on the rows it scores is biased toward DM
      // (the model partly memorises those rewards); K-fold cross-fitting
      // (Chernozhukov et al. 2018) predicts each row with a model that never saw it.
      const RewardModelFitter fitter = [&](std::span<const Interaction* const> rows) {
        std::vector<Interaction> fold;
        fold.reserve(rows.size());
        for (const Interaction* row : rows) fold.push_back(*row);
        return fit_reward_model(fold, reward_model);
      };
      cross_fit = std::make_shared<const CrossFitRewardModel>(CrossFitRewardModel::Config{}, fitter, log);
      estimators.push_back(std::make_unique<CrossFitDoublyRobustEstimator>(cross_fit));
    } else {
      estimators.push_back(make_estimator(name, model));
    }
  }
  NaiveEstimator naive;
  WeightDiagnostics diagnostics;

  OfflineEvaluation result;
  result.target = target_name;
  result.has_truth = true;
  ExactSum exact_sum;
  // Per-row terms of the ratio-form estimators, for the bootstrap and the bound.
  std::vector<RatioForm> forms;
  for (const auto& name : estimator_names) {
    forms.push_back(bootstrap.replicates > 0 ? ratio_form(name) : RatioForm::none);
  }
  const bool needs_model_terms = std::any_of(forms.begin(), forms.end(), [](RatioForm f) {
    return f == RatioForm::dm || f == RatioForm::dr;
  });
  std::vector<std::vector<BootstrapRow>> terms(forms.size());
  for (std::size_t e = 0; e < forms.size(); ++e) {
    if (forms[e] != RatioForm::none) terms[e].reserve(log.size());
  }
  for (const auto& interaction : log) {
    const auto pmf = target(interaction);
    for (auto& estimator : estimators) estimator->add(interaction, pmf);
    naive.add(interaction, pmf);
    diagnostics.add(interaction, pmf);
    if (interaction.truth.size() == pmf.size()) {
      exact_sum.add(expected_value(pmf, interaction.truth));
    } else {
      result.has_truth = false;
    }
    if (bootstrap.replicates == 0) continue;
    // The same formulas as the estimators (ips.cc, snips.cc, direct_method.cc,
    // doubly_robust.cc, cross_fit.cc), unclipped as make_estimator's defaults are.
    const std::uint64_t key = decision_seed(bootstrap.seed, interaction.event_id);
    DrTerms model_terms;
    if (needs_model_terms) model_terms = dr_terms(*model, interaction, pmf);
    const double w = importance_weight(interaction, pmf);
    const double r = interaction.reward;
    for (std::size_t e = 0; e < forms.size(); ++e) {
      switch (forms[e]) {
        case RatioForm::none: break;
        case RatioForm::naive: terms[e].push_back({key, r, 1.0}); break;
        case RatioForm::ips: terms[e].push_back({key, w * r, 1.0}); break;
        case RatioForm::snips: terms[e].push_back({key, w * r, w}); break;
        case RatioForm::dm: terms[e].push_back({key, model_terms.direct, 1.0}); break;
        case RatioForm::dr:
          terms[e].push_back({key, model_terms.direct + model_terms.weight * model_terms.residual, 1.0});
          break;
        case RatioForm::dr_cross_fit: {
          const RewardModel& fold_model = cross_fit->model(cross_fit->fold(interaction.event_id));
          const DrTerms t = dr_terms(fold_model, interaction, pmf);
          terms[e].push_back({key, t.direct + t.weight * t.residual, 1.0});
          break;
        }
      }
    }
  }
  result.n = log.size();
  result.exact_value = exact_sum.value() / static_cast<double>(log.size());
  result.naive = naive.estimate(alpha);
  for (std::size_t i = 0; i < estimators.size(); ++i) {
    result.estimates.emplace_back(estimator_names[i], estimators[i]->estimate(alpha));
  }
  if (bootstrap.replicates > 0) {
    const PoissonBootstrap::Config config{.replicates = bootstrap.replicates, .seed = bootstrap.seed};
    for (std::size_t e = 0; e < forms.size(); ++e) {
      EstimateBounds bounds;
      if (forms[e] != RatioForm::none) {
        if (forms[e] != RatioForm::snips) bounds.safe_lower = safe_lower_bound(terms[e], alpha);
        const Estimate b = bootstrap_interval(std::move(terms[e]), config, alpha);
        bounds.bootstrap_lower = b.lower;
        bounds.bootstrap_upper = b.upper;
        bounds.bootstrap_std_error = b.std_error;
      }
      result.bounds.push_back(bounds);
    }
  }
  result.weights = diagnostics.report();
  result.warnings = warnings(result.weights);
  return result;
}

OfflineEvaluation evaluate_offline(const std::vector<Interaction>& log, const Policy& target,
                                   const std::vector<std::string>& estimators, double alpha) {
  return evaluate_offline(
      log, [&](const Interaction& i) { return target.probabilities(i.context); },
      std::string(target.name()), estimators, alpha);
}

}  // namespace recloop

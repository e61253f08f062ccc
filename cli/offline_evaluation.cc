// SPDX-License-Identifier: Apache-2.0
#include "cli/offline_evaluation.h"

#include <cmath>
#include <memory>

#include "core/error.h"
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

}  // namespace

OfflineEvaluation evaluate_offline(const std::vector<Interaction>& log, const TargetPmf& target,
                                   const std::string& target_name,
                                   const std::vector<std::string>& estimator_names, double alpha,
                                   RewardModelKind reward_model) {
  if (log.empty()) throw Error("no logged interactions to evaluate on");
  check_log(log);
  const auto model = fit_reward_model(log, reward_model);

  std::vector<std::unique_ptr<Estimator>> estimators;
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
      estimators.push_back(std::make_unique<CrossFitDoublyRobustEstimator>(
          std::make_shared<const CrossFitRewardModel>(CrossFitRewardModel::Config{}, fitter, log)));
    } else {
      estimators.push_back(make_estimator(name, model));
    }
  }
  NaiveEstimator naive;
  WeightDiagnostics diagnostics;

  OfflineEvaluation result;
  result.target = target_name;
  result.has_truth = true;
  double exact_sum = 0.0;
  for (const auto& interaction : log) {
    const auto pmf = target(interaction);
    for (auto& estimator : estimators) estimator->add(interaction, pmf);
    naive.add(interaction, pmf);
    diagnostics.add(interaction, pmf);
    if (interaction.truth.size() == pmf.size()) {
      exact_sum += expected_value(pmf, interaction.truth);
    } else {
      result.has_truth = false;
    }
  }
  result.n = log.size();
  result.exact_value = exact_sum / static_cast<double>(log.size());
  result.naive = naive.estimate(alpha);
  for (std::size_t i = 0; i < estimators.size(); ++i) {
    result.estimates.emplace_back(estimator_names[i], estimators[i]->estimate(alpha));
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

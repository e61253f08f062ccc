// SPDX-License-Identifier: Apache-2.0
#include "cli/offline_evaluation.h"

#include <memory>

#include "core/error.h"
#include "evaluation/naive.h"
#include "evaluation/registry.h"
#include "evaluation/ridge_reward_model.h"
#include "evaluation/true_value.h"

namespace recloop {

OfflineEvaluation evaluate_offline(const std::vector<Interaction>& log, const Policy& target,
                                   const std::vector<std::string>& estimator_names, double alpha) {
  if (log.empty()) throw Error("no logged interactions to evaluate on");
  auto model = std::make_shared<RidgeRewardModel>(RidgeRewardModel::Config{},
                                                  log.front().context.feature_dim());
  for (const auto& interaction : log) model->add(interaction);
  model->fit();

  std::vector<std::unique_ptr<Estimator>> estimators;
  for (const auto& name : estimator_names) estimators.push_back(make_estimator(name, model));
  NaiveEstimator naive;

  OfflineEvaluation result;
  result.target = std::string(target.name());
  result.has_truth = true;
  double exact_sum = 0.0;
  for (const auto& interaction : log) {
    const auto pmf = target.probabilities(interaction.context);
    for (auto& estimator : estimators) estimator->add(interaction, pmf);
    naive.add(interaction, pmf);
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
  return result;
}

}  // namespace recloop

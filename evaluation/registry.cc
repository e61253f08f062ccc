// SPDX-License-Identifier: Apache-2.0
#include "evaluation/registry.h"

#include <stdexcept>
#include <utility>

#include "core/error.h"
#include "evaluation/direct_method.h"
#include "evaluation/doubly_robust.h"
#include "evaluation/ips.h"
#include "evaluation/naive.h"
#include "evaluation/snips.h"

namespace recloop {
namespace {

std::string joined_names() {
  std::string joined;
  for (const auto& name : estimator_names()) {
    if (!joined.empty()) joined += ", ";
    joined += name;
  }
  return joined;
}

void require_model(const std::string& name, const std::shared_ptr<const RewardModel>& model) {
  if (!model) throw std::invalid_argument("estimator '" + name + "' needs a reward model");
}

}  // namespace

std::vector<std::string> estimator_names() { return {"naive", "ips", "snips", "dm", "dr"}; }

std::unique_ptr<Estimator> make_estimator(const std::string& name,
                                          std::shared_ptr<const RewardModel> model) {
  // One visible list; keep it in step with estimator_names().
  if (name == "naive") return std::make_unique<NaiveEstimator>();
  if (name == "ips") return std::make_unique<IpsEstimator>();
  if (name == "snips") return std::make_unique<SnipsEstimator>();
  if (name == "dm") {
    require_model(name, model);
    return std::make_unique<DirectMethodEstimator>(std::move(model));
  }
  if (name == "dr") {
    require_model(name, model);
    return std::make_unique<DoublyRobustEstimator>(std::move(model));
  }
  throw ConfigError("unknown estimator '" + name + "' (known: " + joined_names() + ")");
}

}  // namespace recloop

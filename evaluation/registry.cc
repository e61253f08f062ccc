// SPDX-License-Identifier: Apache-2.0
#include "evaluation/registry.h"

#include <limits>
#include <stdexcept>
#include <utility>

#include "core/error.h"
#include "evaluation/direct_method.h"
#include "evaluation/doubly_robust.h"
#include "evaluation/dr_shrinkage.h"
#include "evaluation/ips.h"
#include "evaluation/naive.h"
#include "evaluation/replay.h"
#include "evaluation/self_normalized_dr.h"
#include "evaluation/snips.h"
#include "evaluation/switch_dr.h"

namespace recloop {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

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

std::vector<std::string> estimator_names() {
  return {"naive", "ips", "snips", "dm", "dr", "sndr", "switch_dr", "dros", "replay"};
}

std::unique_ptr<Estimator> make_estimator(const std::string& name,
                                          std::shared_ptr<const RewardModel> model) {
  ConfigSection defaults(name);
  return make_estimator(name, std::move(model), defaults);
}

std::unique_ptr<Estimator> make_estimator(const std::string& name,
                                          std::shared_ptr<const RewardModel> model,
                                          ConfigSection& parameters) {
  // One visible list; keep it in step with estimator_names().
  if (name == "naive") return std::make_unique<NaiveEstimator>();
  if (name == "ips") {
    return std::make_unique<IpsEstimator>(parameters.get_double(
        "max_weight", kInfinity, 0.0, kInfinity, "importance weights above this are clipped",
        /*min_exclusive=*/true));
  }
  if (name == "snips") return std::make_unique<SnipsEstimator>();
  if (name == "dm") {
    require_model(name, model);
    return std::make_unique<DirectMethodEstimator>(std::move(model));
  }
  if (name == "dr") {
    require_model(name, model);
    return std::make_unique<DoublyRobustEstimator>(
        std::move(model),
        parameters.get_double("max_weight", kInfinity, 0.0, kInfinity,
                              "importance weights above this are clipped",
                              /*min_exclusive=*/true));
  }
  if (name == "sndr") {
    require_model(name, model);
    return std::make_unique<SelfNormalizedDrEstimator>(std::move(model));
  }
  if (name == "switch_dr") {
    require_model(name, model);
    const SwitchDrEstimator::Config config{.tau = parameters.get_double(
        "tau", kInfinity, 0.0, kInfinity,
        "events with importance weight above tau use the direct method only")};
    return std::make_unique<SwitchDrEstimator>(std::move(model), config);
  }
  if (name == "dros") {
    require_model(name, model);
    const DrShrinkageEstimator::Config config{.lambda = parameters.get_double(
        "lambda", kInfinity, 0.0, kInfinity,
        "optimistic shrinkage w -> lambda w / (w^2 + lambda); inf = plain DR")};
    return std::make_unique<DrShrinkageEstimator>(std::move(model), config);
  }
  if (name == "replay") {
    const ReplayEstimator::Config config{.seed = static_cast<std::uint64_t>(parameters.get_int(
        "seed", 0, 0, std::numeric_limits<long long>::max(),
        "run seed of the target's replayed draws"))};
    return std::make_unique<ReplayEstimator>(config);
  }
  throw ConfigError("unknown estimator '" + name + "' (known: " + joined_names() + ")");
}

}  // namespace recloop

// SPDX-License-Identifier: Apache-2.0
#include "policies/off_policy_trainer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>

#include "core/error.h"
#include "core/rng.h"
#include "core/sampling.h"
#include "policies/probability_floor.h"

namespace recloop {
namespace {

constexpr std::string_view kTargetNames[] = {"direct", "ips", "dr", "replay"};

// The regression learner that `policy` is, or wraps in a probability floor.
RegressionLearner* regression_learner(Policy& policy) {
  if (auto* floor = dynamic_cast<ProbabilityFloor*>(&policy)) return regression_learner(floor->inner());
  return dynamic_cast<RegressionLearner*>(&policy);
}

// The available candidates of `context` (its mask honoured as in
// Policy::pmf()), and the logged action's index among them.
ActionId available_only(const Context& context, ActionId action, Context& out) {
  std::vector<Eigen::Index> kept;
  ActionId kept_action = 0;
  for (std::size_t a = 0; a < context.size(); ++a) {
    if (context.available[a] == 0) continue;
    if (a == action) kept_action = static_cast<ActionId>(kept.size());
    kept.push_back(static_cast<Eigen::Index>(a));
  }
  out.user = context.user;
  out.actions = context.actions(Eigen::all, kept);
  out.items.clear();
  for (const auto a : kept) out.items.push_back(context.items[static_cast<std::size_t>(a)]);
  out.available.clear();
  return kept_action;
}

}  // namespace

std::string_view targets_name(OffPolicyTrainer::Targets targets) {
  return kTargetNames[static_cast<int>(targets)];
}

OffPolicyTrainer::Config OffPolicyTrainer::Config::from(ConfigSection& section) {
  const Config defaults;
  Config config;
  const std::string targets = section.get_choice(
      "targets", std::string(targets_name(defaults.targets)),
      {kTargetNames[0].data(), kTargetNames[1].data(), kTargetNames[2].data(), kTargetNames[3].data()},
      "how logged rewards become learning steps: direct (unweighted update), ips or dr "
      "(regression targets for every candidate), replay (rejection sampling, any policy)");
  for (int i = 0; i < 4; ++i) {
    if (targets == kTargetNames[i]) config.targets = static_cast<Targets>(i);
  }
  config.max_weight = section.get_double("max_weight", defaults.max_weight, 1.0,
                                         std::numeric_limits<double>::infinity(),
                                         "importance weights 1/p are clipped at this value");
  config.seed = static_cast<std::uint64_t>(
      section.get_int("seed", 0, 0, std::numeric_limits<long long>::max(),
                      "seed of replay's acceptance draws (with the event id)"));
  return config;
}

OffPolicyTrainer::OffPolicyTrainer(Policy& policy, const Config& config)
    : policy_(policy), learner_(nullptr), config_(config) {
  if (!(config.max_weight >= 1.0)) {
    throw std::invalid_argument("OffPolicyTrainer: max_weight = " +
                                std::to_string(config.max_weight) + ", need >= 1");
  }
  if (config.targets == Targets::kIps || config.targets == Targets::kDr) {
    learner_ = regression_learner(policy);
    if (learner_ == nullptr) {
      throw std::invalid_argument(
          "OffPolicyTrainer: policy '" + std::string(policy.name()) +
          "' does not learn from regression targets, so it cannot be trained with " +
          std::string(targets_name(config.targets)) + " targets (use replay or direct)");
    }
  }
}

bool OffPolicyTrainer::learn(const Interaction& logged) {
  const Context& context = logged.context;
  const std::size_t k = context.size();
  if (logged.action >= k) {
    throw Error("event '" + logged.event_id + "': action " + std::to_string(logged.action) +
                " outside its " + std::to_string(k) + " candidates");
  }
  if (!(logged.probability > 0.0 && logged.probability <= 1.0)) {
    throw Error("event '" + logged.event_id + "': logged probability " +
                std::to_string(logged.probability) + " is not in (0, 1]");
  }
  if (!std::isfinite(logged.reward)) {
    throw Error("event '" + logged.event_id + "': reward is not finite");
  }
  if (!context.available.empty() &&
      (context.available.size() != k || context.available[logged.action] == 0)) {
    throw Error("event '" + logged.event_id +
                "': availability mask does not match its candidates and action");
  }
  ++stats_.seen;
  const double inverse = 1.0 / logged.probability;
  if (inverse > config_.max_weight) ++stats_.clipped;
  const double weight = std::min(inverse, config_.max_weight);

  switch (config_.targets) {
    case Targets::kDirect:
      policy_.update(logged);
      break;
    case Targets::kIps:
    case Targets::kDr: {
      // Unavailable candidates could not be logged, so they get no target:
      // learn on the available ones only.
      const Context* candidates = &context;
      ActionId action = logged.action;
      if (!context.available.empty()) {
        action = available_only(context, logged.action, available_);
        candidates = &available_;
      }
      const std::size_t n = candidates->size();
      if (config_.targets == Targets::kIps) {
        // y_a = w r 1[a = a_t]: the IPS estimate of every candidate's reward.
        targets_.assign(n, 0.0);
        targets_[action] = weight * logged.reward;
      } else {
        // y_a = rhat_a + w (r - rhat_a) 1[a = a_t] (Dudik et al. 2011, sec. 2),
        // rhat from the model before this step, so it is independent of r_t.
        targets_.resize(n);
        learner_->predict_rewards(*candidates, targets_);
        targets_[action] += weight * (logged.reward - targets_[action]);
      }
      learner_->learn(*candidates, targets_);
      break;
    }
    case Targets::kReplay: {
      // Rejection sampling towards the learner's own pmf: accept with
      // probability pi(a_t) / (M p_t), capped at 1 (the cap is the clipping).
      const double bound =
          std::isinf(config_.max_weight) ? static_cast<double>(k) : config_.max_weight;
      const double pi = policy_.pmf(context)[logged.action];
      const double accept = std::min(1.0, pi * inverse / bound);
      const double u = uniform01(stream_seed(decision_seed(config_.seed, logged.event_id), 1));
      if (!(u < accept)) return false;
      policy_.update(logged);
      break;
    }
  }
  ++stats_.used;
  return true;
}

}  // namespace recloop

// SPDX-License-Identifier: Apache-2.0
#include "policies/rl/reinforce.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/error.h"
#include "core/model_io.h"

namespace recloop {
namespace {

const ReinforceOptions& validated(const ReinforceOptions& o) {
  if (!(o.gamma >= 0.0 && o.gamma <= 1.0) || o.epochs < 1 || !(o.learning_rate > 0.0) ||
      !(o.l2 >= 0.0) || !(o.cap > 0.0) || o.top_k < 1) {
    throw std::invalid_argument(
        "reinforce_topk: need gamma in [0, 1], epochs >= 1, learning_rate > 0, l2 >= 0, "
        "cap > 0, top_k >= 1; got gamma " + std::to_string(o.gamma) + ", epochs " +
        std::to_string(o.epochs) + ", learning_rate " + std::to_string(o.learning_rate) +
        ", l2 " + std::to_string(o.l2) + ", cap " + std::to_string(o.cap) + ", top_k " +
        std::to_string(o.top_k));
  }
  return o;
}

bool propensity_known(const TrajectoryStep& step) {
  return step.probability > 0.0 || (step.action < step.pmf.size() && step.pmf[step.action] > 0.0);
}

}  // namespace

double top_k_multiplier(double pi, int k) {
  // Chen et al. 2019, eq. 6: d alpha / d pi with alpha = 1 - (1 - pi)^K.
  return static_cast<double>(k) * std::pow(1.0 - pi, k - 1);
}

ReinforcePolicy::ReinforcePolicy(BilinearSoftmax pi, int top_k, std::uint64_t version)
    : pi_(std::move(pi)), top_k_(top_k), version_(version) {
  if (top_k < 1) {
    throw std::invalid_argument("reinforce_topk: top_k = " + std::to_string(top_k) +
                                ", need >= 1");
  }
}

std::vector<double> ReinforcePolicy::probabilities(const Context& context) const {
  check_rl_context(context, pi_.user_dim(), pi_.action_dim(), kName);
  return pi_.pmf(context);
}

void ReinforcePolicy::update(const Interaction&) {}

std::unique_ptr<Policy> ReinforcePolicy::clone() const {
  return std::make_unique<ReinforcePolicy>(*this);
}

void ReinforcePolicy::save(ModelWriter& out) const {
  out.put_u64(static_cast<std::uint64_t>(top_k_));
  out.put_u64(version_);
  pi_.save(out);
}

std::unique_ptr<Policy> ReinforcePolicy::load(ModelReader& in) {
  const std::uint64_t top_k = in.get_u64("reinforce_topk top_k");
  const std::uint64_t version = in.get_u64("reinforce_topk model version");
  BilinearSoftmax pi = BilinearSoftmax::load(in, "reinforce_topk policy");
  if (top_k < 1 || top_k > (1u << 20)) {
    throw Error("model data: reinforce_topk top_k = " + std::to_string(top_k) +
                ", need [1, 2^20]");
  }
  return std::make_unique<ReinforcePolicy>(std::move(pi), static_cast<int>(top_k), version);
}

TopKReinforceTrainer::TopKReinforceTrainer(int user_dim, int action_dim,
                                           const ReinforceOptions& options)
    : options_(validated(options)), pi_(user_dim, action_dim), beta_(user_dim, action_dim),
      pi_adam_(pi_.parameter_count(), options.learning_rate),
      beta_adam_(beta_.parameter_count(), options.behaviour.learning_rate),
      gradient_(pi_.parameter_count()) {
  options.behaviour.validate("reinforce_topk");
}

void TopKReinforceTrainer::behaviour_step(std::span<const TrajectoryStep* const> batch) {
  // Maximum likelihood of the logged actions; the state enters as a constant.
  behaviour_batch_step(beta_, beta_adam_, batch, options_.behaviour.l2, pmf_, gradient_);
}

void TopKReinforceTrainer::behaviour_step(const Context& context, ActionId action) {
  TrajectoryStep step;
  step.context = context;
  step.action = action;
  const TrajectoryStep* one[] = {&step};
  behaviour_step(one);
}

double TopKReinforceTrainer::policy_step(const Context& context, ActionId action,
                                         double behaviour_probability, double discounted_return) {
  if (!(behaviour_probability > 0.0 && behaviour_probability <= 1.0)) {
    throw std::invalid_argument("reinforce_topk: behaviour probability " +
                                std::to_string(behaviour_probability) + ", need (0, 1]");
  }
  pi_.pmf(context, pmf_);
  const double pi = pmf_[action];
  // Chen et al. 2019, eq. 6 with the capped weight of sec. 4.4.
  const double weight =
      options_.importance_weights ? std::min(pi / behaviour_probability, options_.cap) : 1.0;
  const double multiplier = weight * top_k_multiplier(pi, options_.top_k);
  gradient_ = -options_.l2 * pi_.parameters();
  pi_.add_log_gradient(context, action, pmf_, multiplier * discounted_return, gradient_);
  pi_adam_.ascend(pi_.parameters(), gradient_);
  return multiplier;
}

double TopKReinforceTrainer::behaviour_probability(const TrajectoryStep& step) const {
  if (step.probability > 0.0) return step.probability;
  if (step.action < step.pmf.size() && step.pmf[step.action] > 0.0) return step.pmf[step.action];
  Eigen::VectorXd p;
  beta_.pmf(step.context, p);
  // An underflowed estimate would divide by 0; the cap bounds the weight anyway.
  return std::max(p[step.action], std::numeric_limits<double>::min());
}

void TopKReinforceTrainer::train(const std::vector<Trajectory>& trajectories) {
  const auto [user_dim, action_dim] = trajectory_dims(trajectories, "reinforce_topk");
  if (user_dim != pi_.user_dim() || action_dim != pi_.action_dim()) {
    throw std::invalid_argument("reinforce_topk: the log has " + std::to_string(user_dim) +
                                " state and " + std::to_string(action_dim) +
                                " item features, the trainer " + std::to_string(pi_.user_dim()) +
                                " and " + std::to_string(pi_.action_dim()));
  }
  struct Item {
    const TrajectoryStep* step;
    double discounted_return;
  };
  std::vector<Item> items;
  bool missing = false;
  for (const auto& trajectory : trajectories) {
    double g = 0.0;
    const std::size_t first = items.size();
    items.resize(first + trajectory.steps.size());
    for (std::size_t t = trajectory.steps.size(); t-- > 0;) {
      const TrajectoryStep& step = trajectory.steps[t];
      g = step.reward + options_.gamma * g;
      items[first + t] = {&step, g};
      missing = missing || !propensity_known(step);
    }
  }
  if (missing) {
    Rng rng(options_.behaviour.seed);
    const auto size = static_cast<std::size_t>(options_.behaviour.batch_size);
    std::vector<const TrajectoryStep*> batch;
    for (int epoch = 0; epoch < options_.behaviour.epochs; ++epoch) {
      const auto order = shuffled_order(items.size(), rng);
      for (std::size_t i = 0; i < order.size(); i += size) {
        batch.clear();
        for (std::size_t j = i; j < std::min(order.size(), i + size); ++j) {
          batch.push_back(items[order[j]].step);
        }
        behaviour_step(batch);
      }
    }
  }
  std::vector<double> beta(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) beta[i] = behaviour_probability(*items[i].step);
  Rng rng(options_.seed);
  for (int epoch = 0; epoch < options_.epochs; ++epoch) {
    for (std::size_t i : shuffled_order(items.size(), rng)) {
      policy_step(items[i].step->context, items[i].step->action, beta[i],
                  items[i].discounted_return);
    }
  }
}

std::unique_ptr<ReinforcePolicy> TopKReinforceTrainer::policy(std::uint64_t version) const {
  return std::make_unique<ReinforcePolicy>(pi_, options_.top_k, version);
}

std::unique_ptr<ReinforcePolicy> train_reinforce_topk(const std::vector<Trajectory>& trajectories,
                                                      const ReinforceOptions& options) {
  const auto [user_dim, action_dim] = trajectory_dims(trajectories, "reinforce_topk");
  TopKReinforceTrainer trainer(user_dim, action_dim, options);
  trainer.train(trajectories);
  return trainer.policy(transition_count(trajectories));
}

}  // namespace recloop

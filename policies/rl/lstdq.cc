// SPDX-License-Identifier: Apache-2.0
#include "policies/rl/lstdq.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "core/error.h"
#include "core/model_io.h"

namespace recloop {
namespace {

constexpr Eigen::Index kBlock = 64;  // transitions per matrix product when building A

void check_options(const LstdqOptions& options) {
  if (!(options.gamma >= 0.0 && options.gamma < 1.0)) {
    throw std::invalid_argument("LSTD-Q: gamma = " + std::to_string(options.gamma) +
                                ", need [0, 1)");
  }
  if (!(std::isfinite(options.ridge) && options.ridge >= 0.0)) {
    throw std::invalid_argument("LSTD-Q: ridge = " + std::to_string(options.ridge) +
                                ", need finite and >= 0");
  }
}

}  // namespace

Eigen::VectorXd lstdq(const std::vector<Trajectory>& trajectories, const TargetPmf& target,
                      const LstdqOptions& options) {
  check_options(options);
  const auto [user_dim, action_dim] = trajectory_dims(trajectories, "LSTD-Q");
  const Eigen::Index d = 1 + user_dim + action_dim + user_dim * action_dim;
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(d, d);
  Eigen::VectorXd b = Eigen::VectorXd::Zero(d);
  // Columns of one block: phi_t, and phi_t - gamma phibar_{t+1}.
  Eigen::MatrixXd phi(d, kBlock), diff(d, kBlock);
  Eigen::VectorXd rewards(kBlock);
  Eigen::Index filled = 0;
  const auto flush = [&] {
    if (filled == 0) return;
    a.noalias() += phi.leftCols(filled) * diff.leftCols(filled).transpose();
    b.noalias() += phi.leftCols(filled) * rewards.head(filled);
    filled = 0;
  };
  Eigen::VectorXd next_phi(d), mean_item(action_dim);
  for (const auto& trajectory : trajectories) {
    const auto& steps = trajectory.steps;
    for (std::size_t t = 0; t < steps.size(); ++t) {
      const bool last = t + 1 == steps.size();
      if (last && !trajectory.terminated) break;  // truncated: no next state
      const TrajectoryStep& step = steps[t];
      write_state_action(step.context.user, step.context.actions.col(step.action),
                         phi.col(filled));
      diff.col(filled) = phi.col(filled);
      if (!last) {
        // Lagoudakis & Parr 2003, eq. 10 with the expectation over pi(.|s').
        const Context& next = steps[t + 1].context;
        const std::vector<double> pmf = target(next);
        if (pmf.size() != next.size()) {
          throw std::invalid_argument("LSTD-Q: target pmf has " + std::to_string(pmf.size()) +
                                      " entries for " + std::to_string(next.size()) +
                                      " candidates");
        }
        mean_item.noalias() =
            next.actions * Eigen::Map<const Eigen::VectorXd>(pmf.data(), next.actions.cols());
        write_state_action(next.user, mean_item, next_phi);
        diff.col(filled) -= options.gamma * next_phi;
      }
      rewards[filled] = step.reward;
      if (++filled == kBlock) flush();
    }
  }
  flush();
  a.diagonal().array() += options.ridge;
  const Eigen::PartialPivLU<Eigen::MatrixXd> lu(a);
  Eigen::VectorXd theta = lu.solve(b);
  if (!theta.allFinite()) {
    throw Error("LSTD-Q: the system is singular (too few transitions for " + std::to_string(d) +
                " features; set a ridge > 0)");
  }
  return theta;
}

LinearQPolicy::LinearQPolicy(LinearQ q, const ScoreRule& rule, std::uint64_t version)
    : q_(std::move(q)), rule_(rule), version_(version) {
  rule_.validate("lspi");
}

LinearQPolicy::LinearQPolicy(LinearQ q, const ScoreRule& rule, BilinearSoftmax behaviour,
                             double threshold, std::uint64_t version)
    : q_(std::move(q)), rule_(rule), behaviour_(std::move(behaviour)), threshold_(threshold),
      version_(version) {
  rule_.validate("bcq");
  if (!(threshold > 0.0 && threshold <= 1.0)) {
    throw std::invalid_argument("bcq: threshold = " + std::to_string(threshold) +
                                ", need (0, 1]");
  }
  if (behaviour_->user_dim() != q_.user_dim() || behaviour_->action_dim() != q_.action_dim()) {
    throw std::invalid_argument("bcq: behaviour model and Q have different dimensions");
  }
}

Eigen::VectorXd LinearQPolicy::values(const Context& context) const {
  check_rl_context(context, q_.user_dim(), q_.action_dim(), name());
  Eigen::VectorXd values;
  q_.values(context, values);
  return values;
}

std::vector<std::uint8_t> LinearQPolicy::allowed(const Context& context) const {
  check_rl_context(context, q_.user_dim(), q_.action_dim(), name());
  std::vector<std::uint8_t> flags(context.size(), 1);
  if (!behaviour_) return flags;
  // Fujimoto, Conti, Ghavamzadeh & Pineau 2019, "Benchmarking batch deep
  // reinforcement learning algorithms", sec. 4, eq. 3: a' is eligible when
  // G(a'|s) / max_a G(a|s) > tau. Compared through the logits (ratio =
  // exp(z - max z)), so no pmf underflow makes an eligible action ineligible;
  // the argmax is always eligible.
  Eigen::VectorXd z;
  behaviour_->logits(context, z);
  const double top = z.maxCoeff();
  const double log_threshold = std::log(threshold_);
  for (std::size_t a = 0; a < context.size(); ++a) {
    flags[a] = z[static_cast<Eigen::Index>(a)] - top >= log_threshold ? 1 : 0;
  }
  return flags;
}

std::vector<double> LinearQPolicy::probabilities(const Context& context) const {
  const Eigen::VectorXd v = values(context);
  const auto flags = allowed(context);
  return scores_to_pmf({v.data(), static_cast<std::size_t>(v.size())}, rule_, flags);
}

std::vector<double> LinearQPolicy::greedy(const Context& context) const {
  const Eigen::VectorXd v = values(context);
  const auto flags = allowed(context);
  return scores_to_pmf({v.data(), static_cast<std::size_t>(v.size())}, ScoreRule{}, flags);
}

void LinearQPolicy::update(const Interaction&) {}

std::unique_ptr<Policy> LinearQPolicy::clone() const {
  return std::make_unique<LinearQPolicy>(*this);
}

void LinearQPolicy::save(ModelWriter& out) const {
  rule_.save(out);
  out.put_u64(version_);
  q_.save(out);
  if (behaviour_) {
    out.put_f64(threshold_);
    behaviour_->save(out);
  }
}

std::unique_ptr<Policy> LinearQPolicy::load(std::string_view name, ModelReader& in) {
  const std::string who(name);
  const ScoreRule rule = ScoreRule::load(in, who);
  const std::uint64_t version = in.get_u64(who + " model version");
  LinearQ q = LinearQ::load(in, who);
  if (name == kLspiName) return std::make_unique<LinearQPolicy>(std::move(q), rule, version);
  const double threshold = in.get_f64(who + " threshold");
  BilinearSoftmax behaviour = BilinearSoftmax::load(in, who + " behaviour model");
  try {
    return std::make_unique<LinearQPolicy>(std::move(q), rule, std::move(behaviour), threshold,
                                           version);
  } catch (const std::invalid_argument& e) {
    throw Error(std::string("model data: ") + e.what());
  }
}

LspiResult policy_iteration(
    const std::vector<Trajectory>& trajectories, const LspiOptions& options,
    const std::function<std::unique_ptr<LinearQPolicy>(LinearQ)>& make_policy) {
  if (options.max_iterations < 1 || !(options.tolerance >= 0.0)) {
    throw std::invalid_argument("LSPI: need max_iterations >= 1 and tolerance >= 0, got " +
                                std::to_string(options.max_iterations) + " and " +
                                std::to_string(options.tolerance));
  }
  const auto [user_dim, action_dim] = trajectory_dims(trajectories, "LSPI");
  LspiResult result;
  result.policy = make_policy(LinearQ(user_dim, action_dim));
  while (result.iterations < options.max_iterations) {
    // Lagoudakis & Parr 2003, fig. 8: evaluate the greedy policy of the
    // current weights, then improve to the greedy policy of the new ones.
    const LinearQPolicy& current = *result.policy;
    Eigen::VectorXd theta = lstdq(
        trajectories, [&current](const Context& c) { return current.greedy(c); }, options.lstdq);
    ++result.iterations;
    const double change = (theta - current.q().theta()).norm();
    const double scale = 1.0 + theta.norm();
    result.policy = make_policy(LinearQ(user_dim, action_dim, std::move(theta)));
    if (change <= options.tolerance * scale) {
      result.converged = true;
      break;
    }
  }
  return result;
}

LspiResult train_lspi(const std::vector<Trajectory>& trajectories, const LspiOptions& options) {
  options.rule.validate("lspi");
  const std::uint64_t version = bootstrapped_transition_count(trajectories);
  return policy_iteration(trajectories, options, [&](LinearQ q) {
    return std::make_unique<LinearQPolicy>(std::move(q), options.rule, version);
  });
}

}  // namespace recloop

// SPDX-License-Identifier: Apache-2.0
#include "policies/rl/rl_common.h"

#include <cassert>
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/error.h"
#include "core/model_io.h"
#include "core/sampling.h"
#include "policies/softmax.h"

namespace recloop {

void ScoreRule::validate(std::string_view who) const {
  if (!(epsilon >= 0.0 && epsilon <= 1.0)) {
    throw std::invalid_argument(std::string(who) + ": epsilon = " + std::to_string(epsilon) +
                                ", need [0, 1]");
  }
  if (!(std::isfinite(temperature) && temperature >= 0.0)) {
    throw std::invalid_argument(std::string(who) + ": temperature = " +
                                std::to_string(temperature) + ", need finite and >= 0");
  }
}

void ScoreRule::save(ModelWriter& out) const {
  out.put_f64(epsilon);
  out.put_f64(temperature);
}

ScoreRule ScoreRule::load(ModelReader& in, std::string_view who) {
  ScoreRule rule;
  rule.epsilon = in.get_f64(std::string(who) + " epsilon");
  rule.temperature = in.get_f64(std::string(who) + " temperature");
  try {
    rule.validate(who);
  } catch (const std::invalid_argument& e) {
    throw Error(std::string("model data: ") + e.what());
  }
  return rule;
}

std::vector<double> scores_to_pmf(std::span<const double> scores, const ScoreRule& rule,
                                  std::span<const std::uint8_t> allowed) {
  const std::size_t k = scores.size();
  if (k == 0) throw std::invalid_argument("scores_to_pmf: no scores");
  if (!allowed.empty() && allowed.size() != k) {
    throw std::invalid_argument("scores_to_pmf: " + std::to_string(allowed.size()) +
                                " flags for " + std::to_string(k) + " scores");
  }
  const auto is_allowed = [&](std::size_t a) { return allowed.empty() || allowed[a] != 0; };
  std::vector<double> kept;
  for (std::size_t a = 0; a < k; ++a) {
    if (!is_allowed(a)) continue;
    if (!std::isfinite(scores[a])) {
      throw std::invalid_argument("scores_to_pmf: non-finite score " + std::to_string(scores[a]));
    }
    kept.push_back(scores[a]);
  }
  if (kept.empty()) throw std::invalid_argument("scores_to_pmf: no candidate allowed");
  std::vector<double> pmf(k, 0.0);
  if (rule.temperature > 0.0) {
    const auto sub = softmax_pmf(kept, rule.temperature);
    for (std::size_t a = 0, j = 0; a < k; ++a) {
      if (is_allowed(a)) pmf[a] = sub[j++];
    }
    return pmf;
  }
  double best = -std::numeric_limits<double>::infinity();
  for (double s : kept) best = std::max(best, s);
  std::size_t ties = 0;
  for (std::size_t a = 0; a < k; ++a) ties += is_allowed(a) && scores[a] == best;
  const double spread = rule.epsilon / static_cast<double>(kept.size());
  const double greedy = (1.0 - rule.epsilon) / static_cast<double>(ties);
  for (std::size_t a = 0; a < k; ++a) {
    if (!is_allowed(a)) continue;
    pmf[a] = spread + (scores[a] == best ? greedy : 0.0);
  }
  return pmf;
}

void check_rl_context(const Context& context, int user_dim, int action_dim,
                      std::string_view who) {
  if (context.size() == 0) {
    throw std::invalid_argument(std::string(who) + ": a context needs at least one candidate");
  }
  if (context.user.size() != user_dim || context.actions.rows() != action_dim) {
    throw std::invalid_argument(std::string(who) + ": context has " +
                                std::to_string(context.user.size()) + " state and " +
                                std::to_string(context.actions.rows()) +
                                " item features, the model was trained on " +
                                std::to_string(user_dim) + " and " + std::to_string(action_dim));
  }
  if (static_cast<std::size_t>(context.actions.cols()) != context.size()) {
    throw std::invalid_argument(std::string(who) +
                                ": context has a different number of feature columns and items");
  }
}

void write_state_action(const Eigen::Ref<const Eigen::VectorXd>& user,
                        const Eigen::Ref<const Eigen::VectorXd>& item,
                        Eigen::Ref<Eigen::VectorXd> out) {
  const Eigen::Index u = user.size();
  const Eigen::Index a = item.size();
  assert(out.size() == 1 + u + a + u * a);
  out[0] = 1.0;
  out.segment(1, u) = user;
  out.segment(1 + u, a) = item;
  Eigen::Index offset = 1 + u + a;
  for (Eigen::Index j = 0; j < u; ++j, offset += a) out.segment(offset, a) = user[j] * item;
}

LinearQ::LinearQ(int user_dim, int action_dim)
    : user_dim_(user_dim), action_dim_(action_dim), theta_(Eigen::VectorXd::Zero(dim())) {}

LinearQ::LinearQ(int user_dim, int action_dim, Eigen::VectorXd theta)
    : user_dim_(user_dim), action_dim_(action_dim), theta_(std::move(theta)) {
  if (theta_.size() != dim()) {
    throw std::invalid_argument("LinearQ: " + std::to_string(theta_.size()) +
                                " weights, need " + std::to_string(dim()));
  }
}

void LinearQ::set_theta(Eigen::VectorXd theta) {
  if (theta.size() != dim()) {
    throw std::invalid_argument("LinearQ: " + std::to_string(theta.size()) + " weights, need " +
                                std::to_string(dim()));
  }
  theta_ = std::move(theta);
}

void LinearQ::values(const Context& context, Eigen::VectorXd& out) const {
  const int u = user_dim_, a = action_dim_;
  const Eigen::Map<const Eigen::MatrixXd> m(theta_.data() + 1 + u + a, a, u);
  const double state = theta_[0] + theta_.segment(1, u).dot(context.user);
  const Eigen::VectorXd item = theta_.segment(1 + u, a) + m * context.user;
  out.noalias() = context.actions.transpose() * item;
  out.array() += state;
}

double LinearQ::value(const Eigen::Ref<const Eigen::VectorXd>& user,
                      const Eigen::Ref<const Eigen::VectorXd>& item) const {
  const int u = user_dim_, a = action_dim_;
  const Eigen::Map<const Eigen::MatrixXd> m(theta_.data() + 1 + u + a, a, u);
  return theta_[0] + theta_.segment(1, u).dot(user) +
         item.dot(theta_.segment(1 + u, a) + m * user);
}

void LinearQ::save(ModelWriter& out) const {
  out.put_u64(static_cast<std::uint64_t>(user_dim_));
  out.put_u64(static_cast<std::uint64_t>(action_dim_));
  out.put_vector(theta_);
}

LinearQ LinearQ::load(ModelReader& in, std::string_view who) {
  const auto u = in.get_u64(std::string(who) + " state dimension");
  const auto a = in.get_u64(std::string(who) + " item dimension");
  Eigen::VectorXd theta = in.get_vector(std::string(who) + " Q weights");
  if (u > (1u << 16) || a > (1u << 16) ||
      static_cast<std::uint64_t>(theta.size()) != 1 + u + a + u * a) {
    throw Error("model data: " + std::string(who) + " has " + std::to_string(theta.size()) +
                " Q weights for " + std::to_string(u) + " state and " + std::to_string(a) +
                " item features");
  }
  return LinearQ(static_cast<int>(u), static_cast<int>(a), std::move(theta));
}

BilinearSoftmax::BilinearSoftmax(int user_dim, int action_dim)
    : user_dim_(user_dim), action_dim_(action_dim), params_(Eigen::VectorXd::Zero(parameter_count())) {
  if (user_dim < 0 || action_dim < 0) {
    throw std::invalid_argument("BilinearSoftmax: negative dimension");
  }
}

void BilinearSoftmax::logits(const Context& context, Eigen::VectorXd& out) const {
  const Eigen::VectorXd item = W().transpose() * context.user + b();
  out.noalias() = context.actions.transpose() * item;
}

void BilinearSoftmax::pmf(const Context& context, Eigen::VectorXd& out) const {
  logits(context, out);
  out.array() = (out.array() - out.maxCoeff()).exp();
  out /= out.sum();
}

std::vector<double> BilinearSoftmax::pmf(const Context& context) const {
  Eigen::VectorXd p;
  pmf(context, p);
  return {p.data(), p.data() + p.size()};
}

void BilinearSoftmax::add_log_gradient(const Context& context, ActionId action,
                                       const Eigen::VectorXd& pmf, double scale,
                                       Eigen::Ref<Eigen::VectorXd> gradient) const {
  assert(gradient.size() == parameter_count());
  // d log pi_a / d z_b = [a = b] - pi_b, and dz_b/dW = u x_b', dz_b/db = x_b.
  const Eigen::VectorXd direction = scale * (context.actions.col(action) - context.actions * pmf);
  Eigen::Map<Eigen::MatrixXd> gw(gradient.data(), user_dim_, action_dim_);
  gw.noalias() += context.user * direction.transpose();
  gradient.tail(action_dim_) += direction;
}

void BilinearSoftmax::save(ModelWriter& out) const {
  out.put_u64(static_cast<std::uint64_t>(user_dim_));
  out.put_u64(static_cast<std::uint64_t>(action_dim_));
  out.put_vector(params_);
}

BilinearSoftmax BilinearSoftmax::load(ModelReader& in, std::string_view who) {
  const auto u = in.get_u64(std::string(who) + " state dimension");
  const auto a = in.get_u64(std::string(who) + " item dimension");
  Eigen::VectorXd params = in.get_vector(std::string(who) + " parameters");
  if (u > (1u << 16) || a > (1u << 16) ||
      static_cast<std::uint64_t>(params.size()) != u * a + a) {
    throw Error("model data: " + std::string(who) + " has " + std::to_string(params.size()) +
                " parameters for " + std::to_string(u) + " state and " + std::to_string(a) +
                " item features");
  }
  BilinearSoftmax model(static_cast<int>(u), static_cast<int>(a));
  model.params_ = std::move(params);
  return model;
}

Adam::Adam(Eigen::Index size, double learning_rate, double beta1, double beta2, double epsilon)
    : lr_(learning_rate), beta1_(beta1), beta2_(beta2), eps_(epsilon),
      m_(Eigen::VectorXd::Zero(size)), v_(Eigen::VectorXd::Zero(size)) {}

void Adam::ascend(Eigen::Ref<Eigen::VectorXd> params,
                  const Eigen::Ref<const Eigen::VectorXd>& gradient) {
  // Kingma & Ba 2015, Alg. 1, with the bias corrections folded into the step.
  beta1_power_ *= beta1_;
  beta2_power_ *= beta2_;
  m_ = beta1_ * m_ + (1.0 - beta1_) * gradient;
  v_ = beta2_ * v_ + (1.0 - beta2_) * gradient.cwiseAbs2();
  const double step = lr_ / (1.0 - beta1_power_);
  const double v_scale = 1.0 / (1.0 - beta2_power_);
  params.array() += step * m_.array() / ((v_.array() * v_scale).sqrt() + eps_);
}

std::vector<std::size_t> shuffled_order(std::size_t n, Rng& rng) {
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[uniform_index(rng, i)]);
  return order;
}

std::uint64_t bootstrapped_transition_count(const std::vector<Trajectory>& trajectories) {
  std::uint64_t n = 0;
  for (const auto& t : trajectories) {
    n += t.steps.size() - (!t.terminated && !t.steps.empty() ? 1 : 0);
  }
  return n;
}

std::pair<int, int> trajectory_dims(const std::vector<Trajectory>& trajectories,
                                    std::string_view who) {
  int user_dim = -1, action_dim = -1;
  for (std::size_t i = 0; i < trajectories.size(); ++i) {
    const auto& steps = trajectories[i].steps;
    for (std::size_t t = 0; t < steps.size(); ++t) {
      const Context& c = steps[t].context;
      if (user_dim < 0) {
        user_dim = static_cast<int>(c.user.size());
        action_dim = static_cast<int>(c.actions.rows());
      }
      const std::string where = std::string(who) + ": trajectory " + std::to_string(i) +
                                " ('" + trajectories[i].session + "') step " + std::to_string(t);
      check_rl_context(c, user_dim, action_dim, where);
      if (steps[t].action >= c.size()) {
        throw std::invalid_argument(where + ": action " + std::to_string(steps[t].action) +
                                    " outside its " + std::to_string(c.size()) + " candidates");
      }
      if (!(steps[t].probability >= 0.0 && steps[t].probability <= 1.0) ||
          !std::isfinite(steps[t].reward)) {
        throw std::invalid_argument(where + ": probability " +
                                    std::to_string(steps[t].probability) + " or reward " +
                                    std::to_string(steps[t].reward) + " out of range");
      }
    }
  }
  if (user_dim < 0) throw std::invalid_argument(std::string(who) + ": no logged step to train on");
  return {user_dim, action_dim};
}

void BehaviourOptions::validate(std::string_view who) const {
  if (epochs < 1 || !(learning_rate > 0.0) || !(l2 >= 0.0) || batch_size < 1) {
    throw std::invalid_argument(std::string(who) +
                                ": behaviour head needs epochs >= 1, learning_rate > 0, l2 >= 0, "
                                "batch_size >= 1; got " + std::to_string(epochs) + ", " +
                                std::to_string(learning_rate) + ", " + std::to_string(l2) + ", " +
                                std::to_string(batch_size));
  }
}

void behaviour_batch_step(BilinearSoftmax& model, Adam& adam,
                          std::span<const TrajectoryStep* const> batch, double l2,
                          Eigen::VectorXd& pmf, Eigen::VectorXd& gradient) {
  gradient = -l2 * model.parameters();
  const double scale = 1.0 / static_cast<double>(batch.size());
  for (const TrajectoryStep* step : batch) {
    model.pmf(step->context, pmf);
    model.add_log_gradient(step->context, step->action, pmf, scale, gradient);
  }
  adam.ascend(model.parameters(), gradient);
}

BilinearSoftmax fit_behaviour(const std::vector<Trajectory>& trajectories, int user_dim,
                              int action_dim, const BehaviourOptions& options) {
  options.validate("behaviour head");
  std::vector<const TrajectoryStep*> steps;
  for (const auto& trajectory : trajectories) {
    for (const auto& step : trajectory.steps) {
      check_rl_context(step.context, user_dim, action_dim, "behaviour head");
      steps.push_back(&step);
    }
  }
  BilinearSoftmax model(user_dim, action_dim);
  Adam adam(model.parameter_count(), options.learning_rate);
  Rng rng(options.seed);
  Eigen::VectorXd pmf, gradient;
  std::vector<const TrajectoryStep*> batch;
  Eigen::VectorXd average = Eigen::VectorXd::Zero(model.parameter_count());
  double averaged = 0.0;
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    const auto order = shuffled_order(steps.size(), rng);
    for (std::size_t i = 0; i < order.size(); i += static_cast<std::size_t>(options.batch_size)) {
      batch.clear();
      for (std::size_t j = i; j < std::min(order.size(), i + options.batch_size); ++j) {
        batch.push_back(steps[order[j]]);
      }
      behaviour_batch_step(model, adam, batch, options.l2, pmf, gradient);
      if (epoch + 1 == options.epochs) {
        average += model.parameters();
        averaged += 1.0;
      }
    }
  }
  // Polyak-Ruppert averaging over the last epoch (see the header).
  model.parameters() = average / averaged;
  return model;
}

}  // namespace recloop

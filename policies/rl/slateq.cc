// SPDX-License-Identifier: Apache-2.0
#include "policies/rl/slateq.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "core/error.h"
#include "core/model_io.h"

namespace recloop {
namespace {

void check_options(const SlateQOptions& o) {
  if (!(o.gamma >= 0.0 && o.gamma < 1.0) || !(std::isfinite(o.ridge) && o.ridge > 0.0) ||
      o.iterations < 1 || !(o.tolerance >= 0.0) || o.slate_size < 1) {
    throw std::invalid_argument(
        "slateq: need gamma in [0, 1), ridge > 0, iterations >= 1, tolerance >= 0, "
        "slate_size >= 1; got gamma " + std::to_string(o.gamma) + ", ridge " +
        std::to_string(o.ridge) + ", iterations " + std::to_string(o.iterations) +
        ", tolerance " + std::to_string(o.tolerance) + ", slate_size " +
        std::to_string(o.slate_size));
  }
  o.rule.validate("slateq");
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

bool clicked(const TrajectoryStep& step) { return step.reward > 0.0; }

}  // namespace

Eigen::VectorXd SlateChoiceModel::choice(const Context& context,
                                         std::span<const ActionId> slate) const {
  Eigen::VectorXd v;
  score.values(context, v);
  Eigen::VectorXd p(static_cast<Eigen::Index>(slate.size()) + 1);
  double top = no_click;
  for (ActionId a : slate) top = std::max(top, v[a]);
  for (std::size_t j = 0; j < slate.size(); ++j) {
    p[static_cast<Eigen::Index>(j)] = std::exp(v[slate[j]] - top);
  }
  p[p.size() - 1] = std::exp(no_click - top);
  return p / p.sum();
}

SlateChoiceModel fit_choice_model(const std::vector<Trajectory>& trajectories,
                                  const ChoiceFitOptions& options) {
  if (options.epochs < 1 || !(options.learning_rate > 0.0) || !(options.l2 >= 0.0) ||
      options.batch_size < 1) {
    throw std::invalid_argument(
        "slateq choice model: need epochs >= 1, learning_rate > 0, l2 >= 0, batch_size >= 1");
  }
  const auto [user_dim, action_dim] = trajectory_dims(trajectories, "slateq choice model");
  std::vector<const TrajectoryStep*> steps;
  for (const auto& t : trajectories) {
    for (const auto& s : t.steps) steps.push_back(&s);
  }
  LinearQ score(user_dim, action_dim);
  Eigen::VectorXd psi = score.theta();
  Adam adam(psi.size(), options.learning_rate);
  Eigen::VectorXd phi(psi.size()), gradient(psi.size());
  Rng rng(options.seed);
  const auto size = static_cast<std::size_t>(options.batch_size);
  Eigen::VectorXd average = Eigen::VectorXd::Zero(psi.size());
  double averaged = 0.0;
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    const bool last = epoch + 1 == options.epochs;
    const auto order = shuffled_order(steps.size(), rng);
    for (std::size_t i = 0; i < order.size(); i += size) {
      const std::size_t end = std::min(order.size(), i + size);
      gradient = -options.l2 * psi;
      const double scale = 1.0 / static_cast<double>(end - i);
      for (std::size_t j = i; j < end; ++j) {
        const TrajectoryStep& step = *steps[order[j]];
        write_state_action(step.context.user, step.context.actions.col(step.action), phi);
        // Log-likelihood of the click indicator under P(click) = sigmoid(psi'phi).
        const double residual = (clicked(step) ? 1.0 : 0.0) - sigmoid(psi.dot(phi));
        gradient += scale * residual * phi;
      }
      adam.ascend(psi, gradient);
      if (last) {
        average += psi;
        averaged += 1.0;
      }
    }
  }
  // Polyak-Ruppert averaging over the last epoch: the constant step's
  // wobble around the optimum averages out.
  score.set_theta(average / averaged);
  return {std::move(score), 0.0};
}

SlateQModel::SlateQModel(LinearQ qbar, SlateChoiceModel choice)
    : qbar_(std::move(qbar)), choice_(std::move(choice)) {
  if (qbar_.user_dim() != choice_.score.user_dim() ||
      qbar_.action_dim() != choice_.score.action_dim() || !std::isfinite(choice_.no_click)) {
    throw std::invalid_argument("slateq: Qbar and the choice model have different dimensions "
                                "or a non-finite no-click score");
  }
}

double SlateQModel::slate_value(const Context& context, std::span<const ActionId> slate) const {
  // Ie et al. 2019, eq. 5 (the no-click option as an item with x = 0).
  const Eigen::VectorXd p = choice_.choice(context, slate);
  Eigen::VectorXd q;
  qbar_.values(context, q);
  double value = p[p.size() - 1] * qbar_.value(context.user, Eigen::VectorXd::Zero(qbar_.action_dim()));
  for (std::size_t j = 0; j < slate.size(); ++j) value += p[static_cast<Eigen::Index>(j)] * q[slate[j]];
  return value;
}

Eigen::VectorXd SlateQModel::single_values(const Context& context) const {
  Eigen::VectorXd q, v;
  qbar_.values(context, q);
  choice_.score.values(context, v);
  const double none = qbar_.value(context.user, Eigen::VectorXd::Zero(qbar_.action_dim()));
  // P(i | s, {i}) = sigmoid(v_i - v0); Q(s, {i}) = P Qbar(s,i) + (1 - P) Qbar(s, none).
  Eigen::VectorXd out(q.size());
  for (Eigen::Index i = 0; i < q.size(); ++i) {
    const double p = sigmoid(v[i] - choice_.no_click);
    out[i] = p * q[i] + (1.0 - p) * none;
  }
  return out;
}

std::vector<ActionId> SlateQModel::best_slate(const Context& context, int size,
                                              SlateOptimizer optimizer) const {
  const auto k = static_cast<ActionId>(context.size());
  const ActionId n = std::min<ActionId>(k, static_cast<ActionId>(std::max(size, 1)));
  if (n == 1) {
    // Exact: compare every single-item slate; the first of equal values wins.
    const Eigen::VectorXd values = single_values(context);
    Eigen::Index best = 0;
    values.maxCoeff(&best);
    return {static_cast<ActionId>(best)};
  }
  std::vector<ActionId> slate;
  if (optimizer == SlateOptimizer::kTopK) {
    // Sec. 5, "top-K": rank by the unnormalised product exp(v) Qbar.
    Eigen::VectorXd q, v;
    qbar_.values(context, q);
    choice_.score.values(context, v);
    const double shift = v.maxCoeff();
    std::vector<double> key(k);
    for (ActionId i = 0; i < k; ++i) key[i] = std::exp(v[i] - shift) * q[i];
    std::vector<ActionId> order(k);
    std::iota(order.begin(), order.end(), ActionId{0});
    std::stable_sort(order.begin(), order.end(),
                     [&key](ActionId a, ActionId b) { return key[a] > key[b]; });
    slate.assign(order.begin(), order.begin() + n);
    return slate;
  }
  // Sec. 5, "greedy": add the candidate that maximises Q(s, A + {i}).
  std::vector<std::uint8_t> used(k, 0);
  while (slate.size() < n) {
    double best_value = -std::numeric_limits<double>::infinity();
    ActionId best = k;
    slate.push_back(0);
    for (ActionId i = 0; i < k; ++i) {
      if (used[i]) continue;
      slate.back() = i;
      const double value = slate_value(context, slate);
      if (value > best_value) {
        best_value = value;
        best = i;
      }
    }
    slate.back() = best;
    used[best] = 1;
  }
  return slate;
}

std::vector<double> slateq_targets(const Trajectory& trajectory, const SlateQModel& model,
                                   const SlateQOptions& options) {
  const auto& steps = trajectory.steps;
  std::vector<double> targets(steps.size(), std::numeric_limits<double>::quiet_NaN());
  for (std::size_t t = 0; t < steps.size(); ++t) {
    if (t + 1 == steps.size()) {
      if (trajectory.terminated) targets[t] = steps[t].reward;
      break;
    }
    // Ie et al. 2019, eq. 6 (SARSA) and eq. 8 (Q-learning): the bootstrap is
    // the value of the NEXT state's slate.
    const TrajectoryStep& next = steps[t + 1];
    double next_value = 0.0;
    if (options.target == SlateQTarget::kSarsa) {
      const ActionId logged[] = {next.action};
      next_value = model.slate_value(next.context, logged);
    } else {
      const auto slate = model.best_slate(next.context, options.slate_size, options.optimizer);
      next_value = model.slate_value(next.context, slate);
    }
    targets[t] = steps[t].reward + options.gamma * next_value;
  }
  return targets;
}

SlateQPolicy::SlateQPolicy(SlateQModel model, const ScoreRule& rule, int slate_size,
                           SlateOptimizer optimizer, std::uint64_t version)
    : model_(std::move(model)), rule_(rule), slate_size_(slate_size), optimizer_(optimizer),
      version_(version) {
  rule_.validate("slateq");
  if (slate_size < 1) {
    throw std::invalid_argument("slateq: slate_size = " + std::to_string(slate_size) +
                                ", need >= 1");
  }
}

std::vector<double> SlateQPolicy::probabilities(const Context& context) const {
  check_rl_context(context, model_.qbar().user_dim(), model_.qbar().action_dim(), kName);
  const Eigen::VectorXd values = model_.single_values(context);
  return scores_to_pmf({values.data(), static_cast<std::size_t>(values.size())}, rule_);
}

void SlateQPolicy::update(const Interaction&) {}

std::unique_ptr<Policy> SlateQPolicy::clone() const {
  return std::make_unique<SlateQPolicy>(*this);
}

std::vector<ActionId> SlateQPolicy::best_slate(const Context& context) const {
  check_rl_context(context, model_.qbar().user_dim(), model_.qbar().action_dim(), kName);
  return model_.best_slate(context, slate_size_, optimizer_);
}

void SlateQPolicy::save(ModelWriter& out) const {
  rule_.save(out);
  out.put_u64(version_);
  out.put_u64(static_cast<std::uint64_t>(slate_size_));
  out.put_u64(optimizer_ == SlateOptimizer::kTopK ? 0 : 1);
  model_.qbar().save(out);
  model_.choice().score.save(out);
  out.put_f64(model_.choice().no_click);
}

std::unique_ptr<Policy> SlateQPolicy::load(ModelReader& in) {
  const ScoreRule rule = ScoreRule::load(in, "slateq");
  const std::uint64_t version = in.get_u64("slateq model version");
  const std::uint64_t slate_size = in.get_u64("slateq slate size");
  const std::uint64_t optimizer = in.get_u64("slateq slate optimizer");
  LinearQ qbar = LinearQ::load(in, "slateq Qbar");
  LinearQ score = LinearQ::load(in, "slateq choice model");
  const double no_click = in.get_f64("slateq no-click score");
  if (slate_size < 1 || slate_size > (1u << 20) || optimizer > 1) {
    throw Error("model data: slateq slate size " + std::to_string(slate_size) +
                " or optimizer " + std::to_string(optimizer) + " out of range");
  }
  try {
    return std::make_unique<SlateQPolicy>(
        SlateQModel(std::move(qbar), {std::move(score), no_click}), rule,
        static_cast<int>(slate_size), optimizer == 0 ? SlateOptimizer::kTopK : SlateOptimizer::kGreedy,
        version);
  } catch (const std::invalid_argument& e) {
    throw Error(std::string("model data: ") + e.what());
  }
}

std::unique_ptr<SlateQPolicy> train_slateq(const std::vector<Trajectory>& trajectories,
                                           const SlateQOptions& options,
                                           const SlateChoiceModel* choice) {
  check_options(options);
  const auto [user_dim, action_dim] = trajectory_dims(trajectories, "slateq");
  SlateChoiceModel fitted =
      choice != nullptr ? *choice : fit_choice_model(trajectories, options.choice);
  SlateQModel model(LinearQ(user_dim, action_dim), std::move(fitted));
  const Eigen::Index d = model.qbar().dim();
  // The regressors phi(s_t, c_t) are fixed across sweeps: factor once.
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(d, d);
  Eigen::MatrixXd block(d, 64);
  Eigen::Index filled = 0;
  const Eigen::VectorXd none = Eigen::VectorXd::Zero(action_dim);
  const auto write_consumed = [&](const TrajectoryStep& step, Eigen::Ref<Eigen::VectorXd> out) {
    if (clicked(step)) {
      write_state_action(step.context.user, step.context.actions.col(step.action), out);
    } else {
      write_state_action(step.context.user, none, out);
    }
  };
  std::uint64_t transitions = 0;
  for (const auto& trajectory : trajectories) {
    const auto& steps = trajectory.steps;
    const std::size_t usable = steps.size() - (!trajectory.terminated && !steps.empty() ? 1 : 0);
    for (std::size_t t = 0; t < usable; ++t) {
      write_consumed(steps[t], block.col(filled));
      ++transitions;
      if (++filled == block.cols()) {
        gram.selfadjointView<Eigen::Lower>().rankUpdate(block);
        filled = 0;
      }
    }
  }
  if (filled > 0) gram.selfadjointView<Eigen::Lower>().rankUpdate(block.leftCols(filled));
  gram.diagonal().array() += options.ridge;
  const Eigen::LLT<Eigen::MatrixXd, Eigen::Lower> factor(gram);
  if (factor.info() != Eigen::Success) throw Error("slateq: the ridge system is not positive definite");

  Eigen::VectorXd phi(d), moment(d);
  for (int sweep = 0; sweep < options.iterations; ++sweep) {
    moment.setZero();
    for (const auto& trajectory : trajectories) {
      const auto targets = slateq_targets(trajectory, model, options);
      for (std::size_t t = 0; t < targets.size(); ++t) {
        if (std::isnan(targets[t])) continue;
        write_consumed(trajectory.steps[t], phi);
        moment += targets[t] * phi;
      }
    }
    Eigen::VectorXd theta = factor.solve(moment);
    const double change = (theta - model.qbar().theta()).norm();
    const double scale = 1.0 + theta.norm();
    model.set_qbar(LinearQ(user_dim, action_dim, std::move(theta)));
    if (change <= options.tolerance * scale) break;
  }
  return std::make_unique<SlateQPolicy>(std::move(model), options.rule, options.slate_size,
                                        options.optimizer, transitions);
}

}  // namespace recloop

// SPDX-License-Identifier: Apache-2.0
// Pieces shared by the reinforcement-learning trainers of policies/rl/:
//
//   ScoreRule          how a value-based policy turns per-candidate scores
//                      (Q values) into its pmf: epsilon-greedy with ties
//                      shared, or a softmax;
//   LinearQ            Q(s, a) = theta' phi(s, a) on the state-action map of
//                      core/state_action_features.h, scored for all
//                      candidates in O(U A + K A) instead of O(K d);
//   BilinearSoftmax    pi(a | s) = softmax_a(u' W x_a + b' x_a): the REINFORCE
//                      policy and the behaviour head of REINFORCE and BCQ;
//   Adam               the optimiser of the gradient-trained models;
//   fit_behaviour()    the behaviour head: maximum likelihood of the logged
//                      actions given the state, the state an input only.
//
// Conventions of every trainer here. A trajectory's step t is a transition
// (s_t, a_t, r_t, s_{t+1}) with s_{t+1} = steps[t + 1].context; after the
// last step of a terminated trajectory the next state is terminal (its value
// is 0); the last step of a truncated one has no next state and is skipped by
// the bootstrapping methods (LSTD-Q, SlateQ, BCQ). The state features are
// context.user as logged: history (recent clicks, fatigue, step index) enters
// through them, built by the world or the application, because a served
// Policy sees one Context and nothing else.
//
// Thread safety: const members may be called concurrently.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <Eigen/Dense>

#include "core/rng.h"
#include "core/trajectory.h"
#include "core/types.h"

namespace recloop {

class ModelReader;
class ModelWriter;

// Scores to pmf. temperature > 0: P(a) proportional to exp(score_a /
// temperature) over the allowed candidates (softmax_pmf, policies/softmax.h).
// temperature = 0: epsilon-greedy: 1 - epsilon shared equally by the allowed
// candidates whose score equals the allowed maximum exactly, epsilon spread
// uniformly over the allowed candidates. Candidates not allowed get exactly 0.
struct ScoreRule {
  double epsilon = 0.0;      // [0, 1]
  double temperature = 0.0;  // 0 = greedy, else finite and > 0
  bool operator==(const ScoreRule&) const = default;
  // Throws std::invalid_argument naming the value when out of range.
  void validate(std::string_view who) const;
  void save(ModelWriter& out) const;
  static ScoreRule load(ModelReader& in, std::string_view who);
};

// `allowed` empty = every candidate; else one flag per score, at least one set.
std::vector<double> scores_to_pmf(std::span<const double> scores, const ScoreRule& rule,
                                  std::span<const std::uint8_t> allowed = {});

// Throws std::invalid_argument unless the context has `user_dim` user rows,
// `action_dim` action rows, one column per item and at least one candidate.
void check_rl_context(const Context& context, int user_dim, int action_dim, std::string_view who);

// Writes phi = [1; u; x; vec(x u')] (the layout of StateActionFeatures) for
// any item vector x, e.g. a mean of candidate columns (phi is linear in x, so
// sum_a p_a phi(s, a) = phi(s, sum_a p_a x_a)) or x = 0 (the state-only
// part). `out` has length 1 + U + A + U A.
void write_state_action(const Eigen::Ref<const Eigen::VectorXd>& user,
                        const Eigen::Ref<const Eigen::VectorXd>& item,
                        Eigen::Ref<Eigen::VectorXd> out);

// Q(s, a) = theta' phi(s, a). With theta = [c; t_u; t_x; vec(M)], M the A x U
// block, Q(s, a) = c + t_u'u + x_a'(t_x + M u): all K candidates in
// O(U A + K A).
class LinearQ {
 public:
  LinearQ(int user_dim, int action_dim);  // theta = 0
  LinearQ(int user_dim, int action_dim, Eigen::VectorXd theta);  // asserts the length
  int user_dim() const { return user_dim_; }
  int action_dim() const { return action_dim_; }
  int dim() const { return 1 + user_dim_ + action_dim_ + user_dim_ * action_dim_; }
  const Eigen::VectorXd& theta() const { return theta_; }
  void set_theta(Eigen::VectorXd theta);
  // Q of every candidate, in candidate order (out resized to context.size()).
  void values(const Context& context, Eigen::VectorXd& out) const;
  // Q(s, x) for an item vector x (x = 0: the state-only part c + t_u'u).
  double value(const Eigen::Ref<const Eigen::VectorXd>& user,
               const Eigen::Ref<const Eigen::VectorXd>& item) const;
  void save(ModelWriter& out) const;
  static LinearQ load(ModelReader& in, std::string_view who);

 private:
  int user_dim_;
  int action_dim_;
  Eigen::VectorXd theta_;
};

// pi(a | s) = exp(z_a) / sum_b exp(z_b), z_a = u' W x_a + b' x_a, with W
// (U x A) and b (A) stored as one parameter vector [vec(W); b] (the layout
// Adam steps on). Zero parameters give the uniform pmf.
class BilinearSoftmax {
 public:
  BilinearSoftmax(int user_dim, int action_dim);
  int user_dim() const { return user_dim_; }
  int action_dim() const { return action_dim_; }
  int parameter_count() const { return user_dim_ * action_dim_ + action_dim_; }
  const Eigen::VectorXd& parameters() const { return params_; }
  Eigen::VectorXd& parameters() { return params_; }
  Eigen::Map<const Eigen::MatrixXd> W() const {
    return {params_.data(), user_dim_, action_dim_};
  }
  auto b() const { return params_.tail(action_dim_); }

  void logits(const Context& context, Eigen::VectorXd& out) const;
  // The pmf over the candidates (valid for any finite parameters).
  void pmf(const Context& context, Eigen::VectorXd& out) const;
  std::vector<double> pmf(const Context& context) const;
  // Adds scale * grad log pi(action | s) to `gradient` (length
  // parameter_count()), given pmf = pi(. | s): d/dW = u (x_a - xbar)',
  // d/db = x_a - xbar, xbar = sum_b pi_b x_b. The state u is an input: no
  // gradient is formed for it.
  void add_log_gradient(const Context& context, ActionId action, const Eigen::VectorXd& pmf,
                        double scale, Eigen::Ref<Eigen::VectorXd> gradient) const;
  void save(ModelWriter& out) const;
  static BilinearSoftmax load(ModelReader& in, std::string_view who);

 private:
  int user_dim_;
  int action_dim_;
  Eigen::VectorXd params_;
};

// Adam (Kingma & Ba 2015, "Adam: a method for stochastic optimization",
// ICLR, Alg. 1) ascending an objective: params += lr mhat / (sqrt(vhat) + eps).
class Adam {
 public:
  Adam(Eigen::Index size, double learning_rate, double beta1 = 0.9, double beta2 = 0.999,
       double epsilon = 1e-8);
  void ascend(Eigen::Ref<Eigen::VectorXd> params, const Eigen::Ref<const Eigen::VectorXd>& gradient);

 private:
  double lr_, beta1_, beta2_, eps_;
  double beta1_power_ = 1.0, beta2_power_ = 1.0;
  Eigen::VectorXd m_, v_;
};

// The order of `n` items in one epoch: a Fisher-Yates shuffle with
// uniform_index (core/sampling.h) from `rng`.
std::vector<std::size_t> shuffled_order(std::size_t n, Rng& rng);

struct BehaviourOptions {
  int epochs = 20;              // passes over the logged steps, >= 1
  double learning_rate = 0.05;  // Adam step size, > 0
  double l2 = 1e-4;             // weight decay towards 0 (uniform), >= 0
  int batch_size = 32;          // steps per Adam step (mean gradient), >= 1
  std::uint64_t seed = 1;       // shuffle seed
  // Throws std::invalid_argument naming the bad value.
  void validate(std::string_view who) const;
};

// One Adam step of the behaviour head's maximum likelihood on `batch`: the
// mean over the batch of grad log beta(a | s), minus l2 times the
// parameters. Writes `model` only. `pmf` and `gradient` are scratch.
void behaviour_batch_step(BilinearSoftmax& model, Adam& adam,
                          std::span<const TrajectoryStep* const> batch, double l2,
                          Eigen::VectorXd& pmf, Eigen::VectorXd& gradient);

// The behaviour head beta(a | s): a BilinearSoftmax fitted by maximum
// likelihood of every logged (s_t, a_t), mini-batch gradient ascent with
// Adam over a seeded shuffle, l2 towards uniform; the parameters returned are
// the mean of the last epoch's iterates (Polyak-Ruppert averaging), which
// removes most of the constant step's wobble around the optimum. The state features are inputs
// treated as constants (the gradient is blocked at them: with the linear
// state map there is no state encoder to reach, and nothing here writes to
// any other model). Throws std::invalid_argument for bad options or a step
// whose context does not have the given dimensions.
BilinearSoftmax fit_behaviour(const std::vector<Trajectory>& trajectories, int user_dim,
                              int action_dim, const BehaviourOptions& options);

// Transitions the bootstrapping methods use: every step except the last of
// each truncated trajectory. The trained policies' model_version().
std::uint64_t bootstrapped_transition_count(const std::vector<Trajectory>& trajectories);

// The state and item dimensions of the first step; throws
// std::invalid_argument if there is no step or any step differs.
std::pair<int, int> trajectory_dims(const std::vector<Trajectory>& trajectories,
                                    std::string_view who);

}  // namespace recloop

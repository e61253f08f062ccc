// SPDX-License-Identifier: Apache-2.0
// Off-policy REINFORCE with the top-K correction (Chen, Beutel, Covington,
// Jain, Belletti & Chi 2019, "Top-K off-policy correction for a REINFORCE
// recommender system", WSDM, sec. 4-5, eq. 3-6), with a bilinear softmax
// policy over the candidates' item vectors:
//
//   pi(a | s) = softmax_a( u(s)' W x_a + b' x_a ),   u(s) = context.user
//
// (the state is the logged state features, which carry the history: see
// rl_common.h). Training ascends, over epochs of a seeded shuffle of the
// logged steps, with Adam,
//
//   sum_t  w_t  lambda_K(s_t, a_t)  R_t  grad log pi(a_t | s_t)      (eq. 6)
//
//   w_t        = min(pi(a_t|s_t) / beta(a_t|s_t), cap)  per-step importance
//                weight with capping (sec. 4.3, eq. 4's first-order
//                approximation; "weight capping", sec. 4.4),
//   lambda_K   = K (1 - pi(a_t|s_t))^(K-1)  the top-K multiplier (eq. 6:
//                the gradient of alpha = 1 - (1 - pi)^K, the probability that
//                a_t is in a slate of K independent draws), K = 1: plain
//                off-policy REINFORCE,
//   R_t        = sum_{t' >= t} gamma^(t'-t) r_t'  the discounted return to
//                the end of the logged trajectory (cut, not bootstrapped,
//                when truncated),
//
// w_t and lambda_K taken as constants (no gradient through them).
// beta(a_t|s_t) is the logged probability; when the log lacks it
// (probability 0: unknown), the behaviour head's (sec. 4.3 "estimating the
// behavior policy"): a separate bilinear softmax fitted by maximum
// likelihood of the logged actions before the policy's epochs. The paper
// shares the state encoder and blocks beta's gradient into it; here the
// state map is the identity on the logged features, so the block is
// structural: behaviour_step() reads the state as a constant input and
// writes the behaviour parameters only (tested).
//
// The trained policy ("reinforce_topk") decides with pi itself (a softmax:
// every candidate has positive probability); for slates of K, rank with the
// Plackett-Luce ranker over it (sampling without replacement, which is what
// the top-K objective approximates). It is batch-trained: update() is a
// no-op and model_version() (the number of logged steps trained on) never
// changes.
//
// Cost per logged step and epoch: O(U A + K A) for pi plus O(U A) for the
// gradient; per decision O(U A + K A) and K exponentials.
//
// Thread safety: a trained policy is immutable (const members may be called
// concurrently); train_reinforce_topk() is a function of its arguments only;
// a TopKReinforceTrainer is not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "core/trajectory.h"
#include "policies/policy.h"
#include "policies/rl/rl_common.h"

namespace recloop {

class ModelReader;

struct ReinforceOptions {
  double gamma = 0.9;            // discount of the returns, [0, 1]
  int epochs = 10;               // passes over the logged steps, >= 1
  double learning_rate = 0.01;   // Adam step size, > 0
  double l2 = 0.0;               // weight decay of W and b, >= 0
  double cap = 10.0;             // importance weight cap, > 0 (infinity: no cap)
  int top_k = 1;                 // K of lambda_K, >= 1
  bool importance_weights = true;  // false: w_t = 1 (ignores the logger; for comparison)
  BehaviourOptions behaviour;    // the behaviour head, fitted when a propensity is missing
  std::uint64_t seed = 1;        // shuffle of the policy epochs
};

// lambda_K = K (1 - pi)^(K-1); K = 1 gives 1.
double top_k_multiplier(double pi, int k);

class ReinforcePolicy final : public Policy {
 public:
  static constexpr std::string_view kName = "reinforce_topk";

  ReinforcePolicy(BilinearSoftmax pi, int top_k, std::uint64_t version);

  // Throws std::invalid_argument for a context of other dimensions.
  std::vector<double> probabilities(const Context& context) const override;
  // Batch-trained: a no-op; model_version() does not change.
  void update(const Interaction& interaction) override;
  std::string_view name() const override { return kName; }
  std::uint64_t model_version() const override { return version_; }
  std::unique_ptr<Policy> clone() const override;
  void save(ModelWriter& out) const override;
  static std::unique_ptr<Policy> load(ModelReader& in);

  const BilinearSoftmax& model() const { return pi_; }
  int top_k() const { return top_k_; }  // the K it was trained for

 private:
  BilinearSoftmax pi_;
  int top_k_;
  std::uint64_t version_;
};

// The training state: the policy pi and the behaviour head beta, each with its
// own Adam. train() runs the whole schedule; the steps are public so that the
// gradient block and the weights can be checked one step at a time.
class TopKReinforceTrainer {
 public:
  // Throws std::invalid_argument for bad options or dimensions.
  TopKReinforceTrainer(int user_dim, int action_dim, const ReinforceOptions& options);

  // One maximum-likelihood step of beta on a mini-batch of logged steps
  // (behaviour_batch_step, rl_common.h), or on one (s, a). Changes
  // behaviour_model() only: the state is an input, pi is not touched.
  void behaviour_step(std::span<const TrajectoryStep* const> batch);
  void behaviour_step(const Context& context, ActionId action);
  // One ascent step of pi on the logged (s, a) with behaviour probability
  // beta(a|s) > 0 and return R; returns the multiplier w lambda_K applied.
  double policy_step(const Context& context, ActionId action, double behaviour_probability,
                     double discounted_return);
  // beta(a_t | s_t): the logged probability (or pmf[action]) when known,
  // else the behaviour head's.
  double behaviour_probability(const TrajectoryStep& step) const;
  // The behaviour head's epochs (only if a propensity is missing), then the
  // policy's. Throws std::invalid_argument for steps of other dimensions.
  void train(const std::vector<Trajectory>& trajectories);

  const BilinearSoftmax& policy_model() const { return pi_; }
  const BilinearSoftmax& behaviour_model() const { return beta_; }
  std::unique_ptr<ReinforcePolicy> policy(std::uint64_t version) const;

 private:
  ReinforceOptions options_;
  BilinearSoftmax pi_, beta_;
  Adam pi_adam_, beta_adam_;
  Eigen::VectorXd pmf_, gradient_;
};

// Trains on the log and returns the policy. Throws std::invalid_argument for
// bad options or trajectories.
std::unique_ptr<ReinforcePolicy> train_reinforce_topk(const std::vector<Trajectory>& trajectories,
                                                      const ReinforceOptions& options);

}  // namespace recloop

// SPDX-License-Identifier: Apache-2.0
// LSTD-Q and LSPI (Lagoudakis & Parr 2003, "Least-squares policy iteration",
// JMLR 4, sec. 5 eq. 10-11 (LSTDQ) and fig. 7-8 (LSPI)): batch, closed-form,
// off-policy evaluation and control with a linear Q on the state-action map
// phi(s, a) = [1; u; x_a; vec(x_a u')] (core/state_action_features.h).
//
//   A = sum_t phi_t (phi_t - gamma phibar_{t+1})' + ridge I,   b = sum_t phi_t r_t,
//   theta = A^{-1} b,
//
// over every transition of the log (rl_common.h for what counts as one), with
// phibar_{t+1} = sum_a pi(a | s_{t+1}) phi(s_{t+1}, a) for the target policy
// pi (a deterministic pi puts all its weight on one action; phi is linear in
// x_a, so phibar is phi at the pi-mean item vector) and phibar = 0 after the
// last step of a terminated trajectory. A is not symmetric; it is solved by
// LU with partial pivoting. The logged actions may come from any behaviour
// policy: LSTD-Q needs no propensities.
//
// LSPI starts from theta = 0 (the greedy policy of Q = 0 is uniform: every
// candidate ties) and alternates LSTD-Q on the greedy policy of the current
// theta (ties shared) with the greedy improvement, until the weights move by
// at most tolerance (1 + |theta|) (Euclidean norms) or max_iterations.
//
// The trained policy (LinearQPolicy, registry name "lspi") decides with its
// ScoreRule over Q(s, .): epsilon-greedy with ties shared, or a softmax. It is
// batch-trained: update() is a no-op and model_version() (the number of
// transitions it was trained on) never changes. BCQ (bcq.h) is the same
// policy with a behaviour-model constraint.
//
// Cost: one LSTD-Q solve O(n (d^2 + U A + K A)) to build A (blocks of 64
// transitions, one matrix product per block) plus O(d^3) for the LU; d = 1 +
// U + A + U A. A decision: O(U A + K A) for the K Q values (LinearQ).
//
// Thread safety: a trained policy is immutable (const members may be called
// concurrently); the trainers are functions of their arguments only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include <Eigen/Dense>

#include "core/trajectory.h"
#include "policies/policy.h"
#include "policies/rl/rl_common.h"

namespace recloop {

class ModelReader;

// The target policy's pmf at a next state (candidate order).
using TargetPmf = std::function<std::vector<double>(const Context&)>;

struct LstdqOptions {
  double gamma = 0.9;    // discount, [0, 1)
  double ridge = 1e-6;   // added to A's diagonal, >= 0 (> 0 when features are collinear)
};

// One LSTD-Q solve: the weights of Q^pi for the target policy `target`.
// Throws std::invalid_argument for bad options or trajectories (dimensions,
// actions), Error when A is singular (no ridge and too few transitions).
Eigen::VectorXd lstdq(const std::vector<Trajectory>& trajectories, const TargetPmf& target,
                      const LstdqOptions& options);

// A linear-Q policy trained offline: "lspi", or "bcq" when it carries a
// behaviour model and threshold (bcq.h).
class LinearQPolicy final : public Policy {
 public:
  static constexpr std::string_view kLspiName = "lspi";
  static constexpr std::string_view kBcqName = "bcq";

  // LSPI's policy. Throws std::invalid_argument for a bad rule.
  LinearQPolicy(LinearQ q, const ScoreRule& rule, std::uint64_t version);
  // BCQ's: only candidates with beta(a|s) / max_b beta(b|s) >= threshold, in
  // (0, 1], may be chosen (the greedy one and the epsilon share alike).
  LinearQPolicy(LinearQ q, const ScoreRule& rule, BilinearSoftmax behaviour, double threshold,
                std::uint64_t version);

  // Throws std::invalid_argument for a context of other dimensions.
  std::vector<double> probabilities(const Context& context) const override;
  // Batch-trained: a no-op; model_version() does not change.
  void update(const Interaction& interaction) override;
  std::string_view name() const override { return behaviour_ ? kBcqName : kLspiName; }
  std::uint64_t model_version() const override { return version_; }
  std::unique_ptr<Policy> clone() const override;
  // Writes the rule, the version, the Q weights and, for BCQ, the threshold
  // and the behaviour model.
  void save(ModelWriter& out) const override;
  // Reads what save() wrote under `name` (kLspiName or kBcqName).
  static std::unique_ptr<Policy> load(std::string_view name, ModelReader& in);

  // Q(s, a) for every candidate.
  Eigen::VectorXd values(const Context& context) const;
  // Candidates the policy may choose (all of them for LSPI).
  std::vector<std::uint8_t> allowed(const Context& context) const;
  // The greedy pmf (epsilon 0, temperature 0) over the allowed candidates:
  // the target policy LSPI and BCQ evaluate.
  std::vector<double> greedy(const Context& context) const;

  const LinearQ& q() const { return q_; }
  const ScoreRule& rule() const { return rule_; }
  const std::optional<BilinearSoftmax>& behaviour() const { return behaviour_; }
  double threshold() const { return threshold_; }

 private:
  LinearQ q_;
  ScoreRule rule_;
  std::optional<BilinearSoftmax> behaviour_;
  double threshold_ = 0.0;
  std::uint64_t version_ = 0;
};

struct LspiOptions {
  LstdqOptions lstdq;
  int max_iterations = 30;   // LSTD-Q solves at most, >= 1
  double tolerance = 1e-8;   // relative change of theta at the fixed point, >= 0
  ScoreRule rule;            // how the trained policy decides (not used in training)
};

struct LspiResult {
  std::unique_ptr<LinearQPolicy> policy;
  int iterations = 0;        // LSTD-Q solves made
  bool converged = false;    // the last solve moved theta by at most the tolerance
};

// LSPI on the log. Throws as lstdq().
LspiResult train_lspi(const std::vector<Trajectory>& trajectories, const LspiOptions& options);

// The LSPI loop with the greedy improvement restricted to the candidates a
// policy allows: `make_policy(theta)` builds the policy for weights theta,
// whose greedy() is the next target. Used by train_lspi() and train_bcq().
LspiResult policy_iteration(const std::vector<Trajectory>& trajectories,
                            const LspiOptions& options,
                            const std::function<std::unique_ptr<LinearQPolicy>(LinearQ)>& make_policy);

}  // namespace recloop

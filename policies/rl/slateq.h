// SPDX-License-Identifier: Apache-2.0
// SlateQ (Ie, Jain, Wang, Narvekar, Agarwal, Wu, Cheng, Chandra & Boutilier
// 2019, "SlateQ: a tractable decomposition for reinforcement learning with
// recommendation sets", IJCAI, sec. 3-4): the value of a slate A decomposes
// over the item the user consumes,
//
//   Q(s, A) = sum_{i in A} P(i | s, A) Qbar(s, i)  +  P(no click | s, A) Qbar(s, none)   (eq. 5)
//
// with an item-wise long-term value Qbar(s, i) = theta' phi(s, x_i) on the
// state-action map of core/state_action_features.h and the no-click option as
// an item with x = 0 (phi = [1; u; 0; 0]: the state-only part of the map, so
// Qbar(s, none) is the state's value when nothing is consumed).
//
// Choice model P(i | s, A): a conditional logit with a no-click option,
//   P(i | s, A) = exp(v(s,i)) / (exp(v0) + sum_{j in A} exp(v(s,j))),
//   P(none | s, A) = exp(v0) / (same),
// v(s, i) = psi' phi(s, x_i) (LinearQ as a linear scorer), v0 the no-click
// score. Given (construct one), or fitted from single-slot logs by
// fit_choice_model(): with one item shown, the logit reduces to
// P(click | s, {i}) = sigmoid(v(s,i) - v0), so with v0 = 0 the MLE is a
// logistic regression of the click indicator on phi (l2, mini-batch Adam,
// seeded shuffle; the weights returned are the mean of the last epoch's
// iterates). A click is a step with reward > 0 (the consumed item is then
// the one shown; otherwise it is "none").
//
// Learning (sec. 4.2, eq. 6-8; fitted Q iteration with a closed-form ridge
// regression per sweep): every transition (s_t, a_t, r_t, s_{t+1}) regresses
// Qbar(s_t, c_t), c_t the consumed item (a_t on a click, else none), on
//
//   y_t = r_t + gamma Q(s_{t+1}, A_{t+1})          (0 for the value after a terminal step)
//
// evaluated at the NEXT state s_{t+1} = steps[t+1].context, with A_{t+1}:
//   SARSA       the logged next slate (single-slot logs: {a_{t+1}});
//   Q-learning  the best slate of s_{t+1}'s candidates (best_slate()).
// theta = (sum phi phi' + ridge I)^{-1} sum phi y, repeated for `iterations`
// sweeps (or until theta moves by at most tolerance (1 + |theta|)).
//
// Slate optimisation (sec. 5): size 1 is exact (every candidate's Q(s,{i})
// compared); for size K > 1, top-K takes the K candidates with the largest
// exp(v(s,i)) Qbar(s,i) (the "top-K" heuristic), greedy adds, K times, the
// candidate that maximises Q(s, A + {i}) (the "greedy" heuristic).
//
// The trained policy ("slateq") decides one item per request (the session
// world's single slot) with its ScoreRule over Q(s, {i}); best_slate() gives
// the slate of slate_size for a slate request. Batch-trained: update() is a
// no-op and model_version() (transitions trained on) never changes.
//
// Cost: a decision O(U A + K A) (two linear scorers) plus O(K) for the
// single-slot values; a greedy slate O(K^2 size); a sweep O(n (U A + K A))
// plus one O(d^2) solve with the Cholesky factor computed once, O(n d^2 + d^3).
//
// Thread safety: a trained policy is immutable (const members may be called
// concurrently); the trainers are functions of their arguments only.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include <Eigen/Dense>

#include "core/trajectory.h"
#include "policies/policy.h"
#include "policies/rl/rl_common.h"

namespace recloop {

class ModelReader;

// The conditional logit with a no-click option (header).
struct SlateChoiceModel {
  LinearQ score;          // v(s, i) = psi' phi(s, x_i)
  double no_click = 0.0;  // v0

  // P(i | s, A) for each i of `slate` (in order), then P(none | s, A) as the
  // last entry: slate.size() + 1 entries summing to 1.
  Eigen::VectorXd choice(const Context& context, std::span<const ActionId> slate) const;
};

struct ChoiceFitOptions {
  int epochs = 5;               // passes, >= 1
  double learning_rate = 0.05;  // Adam step size, > 0
  double l2 = 1e-4;             // weight decay, >= 0
  int batch_size = 32;          // steps per Adam step (mean gradient), >= 1
  std::uint64_t seed = 1;       // shuffle seed
};

// Fits v(s, i) with v0 = 0 from single-slot logs (header). Throws
// std::invalid_argument for bad options or trajectories.
SlateChoiceModel fit_choice_model(const std::vector<Trajectory>& trajectories,
                                  const ChoiceFitOptions& options);

enum class SlateQTarget { kSarsa, kQLearning };
enum class SlateOptimizer { kTopK, kGreedy };

// Qbar and the choice model: the values of items, slates and targets.
class SlateQModel {
 public:
  // Throws std::invalid_argument when the two disagree on dimensions.
  SlateQModel(LinearQ qbar, SlateChoiceModel choice);

  const LinearQ& qbar() const { return qbar_; }
  const SlateChoiceModel& choice() const { return choice_; }
  void set_qbar(LinearQ qbar) { qbar_ = std::move(qbar); }

  // Q(s, A) of eq. 5.
  double slate_value(const Context& context, std::span<const ActionId> slate) const;
  // Q(s, {i}) for every candidate i (the single-slot values).
  Eigen::VectorXd single_values(const Context& context) const;
  // The best slate of min(size, K) distinct candidates (header), in the
  // order chosen (top-K: by decreasing exp(v) Qbar; greedy: by addition).
  std::vector<ActionId> best_slate(const Context& context, int size, SlateOptimizer optimizer) const;

 private:
  LinearQ qbar_;
  SlateChoiceModel choice_;
};

struct SlateQOptions {
  double gamma = 0.9;            // [0, 1)
  double ridge = 1e-3;           // > 0
  int iterations = 50;           // sweeps at most, >= 1
  double tolerance = 1e-8;       // >= 0
  SlateQTarget target = SlateQTarget::kQLearning;
  int slate_size = 1;            // size of the slates optimised (targets and best_slate), >= 1
  SlateOptimizer optimizer = SlateOptimizer::kGreedy;
  ScoreRule rule;                // the single-slot decision rule
  ChoiceFitOptions choice;       // used when no choice model is given
};

// The regression targets y_t of one trajectory under `model` (header), one per
// step; NaN for the last step of a truncated trajectory (no next state, not
// used). The step's own context is never read: only r_t and step t+1.
std::vector<double> slateq_targets(const Trajectory& trajectory, const SlateQModel& model,
                                   const SlateQOptions& options);

class SlateQPolicy final : public Policy {
 public:
  static constexpr std::string_view kName = "slateq";

  SlateQPolicy(SlateQModel model, const ScoreRule& rule, int slate_size,
               SlateOptimizer optimizer, std::uint64_t version);

  // Single slot: the rule over Q(s, {i}). Throws std::invalid_argument for
  // a context of other dimensions.
  std::vector<double> probabilities(const Context& context) const override;
  void update(const Interaction& interaction) override;  // no-op
  std::string_view name() const override { return kName; }
  std::uint64_t model_version() const override { return version_; }
  std::unique_ptr<Policy> clone() const override;
  void save(ModelWriter& out) const override;
  static std::unique_ptr<Policy> load(ModelReader& in);

  // The best slate of slate_size() for a slate request.
  std::vector<ActionId> best_slate(const Context& context) const;
  const SlateQModel& model() const { return model_; }
  int slate_size() const { return slate_size_; }

 private:
  SlateQModel model_;
  ScoreRule rule_;
  int slate_size_;
  SlateOptimizer optimizer_;
  std::uint64_t version_;
};

// Trains Qbar with the given choice model, or with one fitted from the log
// when `choice` is null. Throws std::invalid_argument for bad options or
// trajectories.
std::unique_ptr<SlateQPolicy> train_slateq(const std::vector<Trajectory>& trajectories,
                                           const SlateQOptions& options,
                                           const SlateChoiceModel* choice = nullptr);

}  // namespace recloop

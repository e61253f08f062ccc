// SPDX-License-Identifier: Apache-2.0
// Fitted Q evaluation (FQE): the target policy's action values Q^π, fit on
// logged trajectories by iterated ridge regression on the linear features
// phi(s, a) of core/state_action_features.h (Le, Voloshin & Yue 2019, "Batch
// policy learning under constraints", ICML (FQE); Ernst, Geurts &
// Wehenkel 2005, "Tree-based batch mode reinforcement learning", JMLR 6, for
// fitted Q iteration):
//
//   θ_0 = 0,   θ_{k+1} = argmin_θ Σ_rows (r + γ Σ_a' π(a'|s') phi(s',a')'θ_k
//                                           - phi(s,a)'θ)² + λ |θ_{1..}|²
//
// over every logged step (s, a, r, s'). The successor value is 0 after the
// last step of a terminated trajectory; the last step of a truncated one has
// no observed successor and is left out (its state still serves as the
// successor of the step before, so the rest of a truncated session bootstraps
// from the model). The intercept is not penalised.
//
// Closed form: with X the rows' phi(s, a), X̄' their expected successor
// features Σ_a' π(a'|s') phi(s', a') (0 when terminal) and D = diag(0, 1, ...),
//
//   θ_{k+1} = (X'X + λ D)^{-1} (X'r + γ X'X̄' θ_k),
//
// so X'X + λD (factored once, Eigen LDLT), X'X̄' and X'r are built in one pass
// over the rows, and each iteration is a d x d product and an LDLT solve.
// Because phi is linear in the item features x_a, Σ_a π(a) phi(s, a) is
// phi with x_a replaced by Σ_a π(a) x_a: O(K A) per successor, not O(K d).
//
// Cost (N rows, d = dim(phi), K iterations, B bootstrap replicates):
// O(N d² + d³ + K d²) time and O(d²) memory (rows are processed in blocks,
// never stored), times (B + 1) with a bootstrap interval. Measured on one
// core of a shared 2-core machine (load average ~10), N = 10^5 rows, d = 400
// (U = A = 19): 6-14 s to build the normal equations, 0.22 ms per
// iteration, so K = 100 iterations add ~0.02 s.
//
// With one-hot state and action features (tabular), phi spans every indicator
// of a (state, action) pair and FQE with λ -> 0 converges to the Q^π of the
// log's empirical MDP (certainty equivalence), as K grows when γ P_π has
// spectral radius < 1.
//
// The value estimate is the mean over trajectories of V̂(s_0) =
// Σ_a π(a|s_0) Q̂(s_0, a). Its interval: the normal interval with the standard
// error of B bootstrap refits over trajectories resampled with replacement
// (Efron 1979); B = 0 gives no interval (infinite).
//
// Pure computation. fitted_q_evaluation is thread-safe for distinct inputs;
// LinearActionValueModel is immutable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <Eigen/Dense>

#include "core/state_action_features.h"
#include "core/trajectory.h"
#include "evaluation/sequential.h"

namespace recloop {

// Q̂(s, a) = phi(s, a)'θ.
class LinearActionValueModel final : public ActionValueModel {
 public:
  // theta has length StateActionFeatures(user_dim, action_dim).dim(), else
  // std::invalid_argument.
  LinearActionValueModel(int user_dim, int action_dim, Eigen::VectorXd theta);

  // O(U A + K A) per state: the outer-product block is folded into the item
  // weights once per state. Asserts the context's dimensions.
  void values(const Context& state, std::span<double> out) const override;
  double value(const Context& state, ActionId action) const;

  const StateActionFeatures& features() const { return features_; }
  const Eigen::VectorXd& theta() const { return theta_; }

 private:
  StateActionFeatures features_;
  Eigen::VectorXd theta_;
};

struct FittedQConfig {
  int iterations = 100;  // K >= 1
  double lambda = 1e-3;  // ridge penalty on every weight but the intercept, > 0
  double gamma = 1.0;    // discount in [0, 1]
  double alpha = 0.05;   // two-sided (1 - alpha) interval, alpha in (0, 1)
  std::size_t bootstrap_replicates = 20;  // B; 0 = no interval, else >= 2
  std::uint64_t seed = 0;                 // seeds the bootstrap's Rng
};

struct FittedQResult {
  LinearActionValueModel model;
  // value = mean V̂(s_0) over the trajectories with at least one step; the
  // weight diagnostics are not filled (FQE uses no importance weights).
  SequentialEstimate estimate;
  std::size_t rows = 0;       // regression rows (steps with a known successor)
  double last_change = 0.0;   // max_i |θ_K[i] - θ_{K-1}[i]|: small when converged
};

// Throws std::invalid_argument for an out-of-range config field, for
// target_pmfs not shaped like the trajectories (see check_trajectories; the
// behaviour probabilities are not needed), for contexts whose user or item
// feature dimensions differ from the first step's (naming session and step),
// or when there is no step at all.
FittedQResult fitted_q_evaluation(const std::vector<Trajectory>& trajectories,
                                  const TargetPmfs& target_pmfs, const FittedQConfig& config);

// K-fold cross-fitting of FQE for the model-based estimators (Chernozhukov
// et al. 2018, "Double/debiased machine learning for treatment and structural
// parameters", Econometrics J. 21(1); for sequential DR, Kallus & Uehara 2020,
// "Double reinforcement learning for efficient off-policy evaluation in
// Markov decision processes", JMLR 21): trajectory i is in fold i mod K, fold
// k's model is FQE fit on every trajectory outside fold k, and models[i] is
// the model of trajectory i's fold, so no trajectory is scored by a model
// that saw it (the usual guard against a model overfit to the data it
// corrects). Pass models to the TrajectoryModels overloads of
// evaluation/sequential.h. Shuffle
// the trajectories first if their order is not random. Costs K FQE fits
// (no bootstrap). Throws as fitted_q_evaluation, and std::invalid_argument
// unless 2 <= folds <= trajectories.size().
struct CrossFittedQ {
  std::vector<std::shared_ptr<const LinearActionValueModel>> fold_models;
  TrajectoryModels models;  // models[i] = fold_models[i % K].get(); valid while fold_models lives
};
CrossFittedQ cross_fitted_q_evaluation(const std::vector<Trajectory>& trajectories,
                                       const TargetPmfs& target_pmfs, const FittedQConfig& config,
                                       std::size_t folds = 2);

}  // namespace recloop

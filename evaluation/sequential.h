// SPDX-License-Identifier: Apache-2.0
// Off-policy evaluation of whole sessions: the value of a target policy,
//
//   V(π) = E[ Σ_{t>=0} γ^t r_t ]   from the log's distribution of first states,
//
// estimated from trajectories (core/trajectory.h) logged by another policy.
//
// Notation. Trajectory i has H_i steps t = 0 .. H_i - 1; ρ_t = π(a_t|s_t) /
// μ(a_t|s_t) is the per-step importance weight (μ the behaviour probability
// logged with the step), w_t = ρ_0 ρ_1 ... ρ_t the cumulative weight, w_{-1} =
// 1. A model Q̂ (ActionValueModel) gives V̂(s) = Σ_a π(a|s) Q̂(s, a).
//
//   PDIS   (1/n) Σ_i Σ_t γ^t w_t^i r_t^i
//          Precup, Sutton & Singh 2000, "Eligibility traces for off-policy
//          policy evaluation", ICML (per-decision importance sampling).
//   WPDIS  Σ_t γ^t Σ_i w_t^i r_t^i / Σ_i w_t^i
//          the same with the weights of each step normalised over the
//          trajectories (Precup et al. 2000, weighted per-decision IS).
//   DR     (1/n) Σ_i V_DR^i with the recursion of Jiang & Li 2016, "Doubly
//          robust off-policy value evaluation for reinforcement learning",
//          ICML (the estimator's recursive definition):
//            V_DR(t) = V̂(s_t) + ρ_t (r_t + γ V_DR(t+1) - Q̂(s_t, a_t)),
//            V_DR(H) = 0,
//          which unrolls to Σ_t γ^t [w_t (r_t - Q̂(s_t,a_t)) + w_{t-1} V̂(s_t)].
//   WDR    the unrolled DR with w_t^i replaced by w_t^i / Σ_j w_t^j (and
//          w_{-1}^i by 1/n): Thomas & Brunskill 2016, "Data-efficient
//          off-policy policy evaluation for reinforcement learning", ICML
//          (the weighted doubly robust estimator).
//   MAGIC  Thomas & Brunskill 2016 (MAGIC): the blend x* · g of the partial
//          estimators g^(j) (WDR over steps 0 .. j, then the model's value
//          γ^{j+1} w̃_j V̂(s_{j+1}); j = -1 is the model alone, j = H-1 is WDR),
//          with x* = argmin over the simplex of x' (Ω̂ + b̂ b̂') x, Ω̂ the
//          covariance of the g^(j) estimated over trajectories and b̂_j the
//          distance from g^(j) to a bootstrap confidence interval of the
//          weighted importance sampling estimate (WPDIS), the paper's bias
//          bound (its definitions of Ω̂_n, b̂_n and the quadratic program for
//          x*, around Eqs. 10-12).
//
// Trajectories of different lengths: a trajectory that ended is continued, in
// the sums over t, by an absorbing state with reward 0, value 0 and weight
// frozen at its last w_t (the target and behaviour policies agree there). This
// is what keeps the normalisers Σ_i w_t^i of WPDIS, WDR and MAGIC comparable
// across t. A step t at which every trajectory's weight is 0 contributes 0
// to them (its numerator is 0 too).
//
// Truncated trajectories (Trajectory::terminated false): these estimators
// estimate the return over the steps the log holds, so a session cut short
// counts only what it earned before the cut. Evaluate whole sessions, or use
// FQE (evaluation/fitted_q.h), which bootstraps past the cut with its model.
//
// Intervals: PDIS and DR are means of i.i.d. per-trajectory terms: normal
// interval over trajectories. WPDIS, WDR and MAGIC are ratio estimators: a
// percentile bootstrap over trajectories (resampled with replacement, B
// replicates, drawn from an explicit seeded Rng), with std_error the
// replicates' standard deviation. MAGIC is recomputed on every resample (g,
// Ω̂, b̂ and x*) with the bias interval shifted by the resample's change in
// WPDIS (a bootstrap per resample would cost B² passes); its std_error is
// those replicates' spread given the model.
//
// Every interval treats the model as fixed. DR and WDR stay valid when the
// model was fit on the evaluated trajectories (errors in Q̂ enter them only
// through products with the weights' zero-mean fluctuations), but MAGIC
// leans on the model-only estimate g^(-1) exactly when the model's error
// hides inside the WPDIS interval, and its bootstrap then undercovers (small
// MDP of the tests, 200 logs of 200 sessions, nominal 95%: even widened by
// the blend's bias bound x*'b̂ it covered 0.735 with the FQE model fit on the
// same log or cross-fitted, 0.89 with a model from an independent log). So MAGIC's interval is the hull of its bootstrap
// interval and WDR's on the same resamples: it covers whenever WDR's does.
// Measured coverage there: PDIS 0.915, DR (exact Q) 0.94, WPDIS 0.92, WDR
// (FQE on the same log) 0.93, MAGIC (2-fold cross-fitted FQE) 0.94 with
// intervals 2% wider on average than WDR's, and a spread of MAGIC's values
// across logs 14% below WDR's.
//
// Per-step weight capping (SequentialConfig::max_step_weight, off by default)
// replaces ρ_t by min(ρ_t, c): lower variance, but biased (the capped
// estimators no longer estimate V(π) even with infinite data).
//
// Cost: O(Σ_i H_i · K) to check the input and read the pmfs (K candidates),
// plus one ActionValueModel::values() call per step for the model-based
// estimators, plus O(B · n · H_max) for a bootstrap (MAGIC: O(B · n · (H_max +
// J²)) with J partial lengths, and a second bootstrap of WPDIS for the bias
// interval). Memory: five n x H_max matrices of doubles. Pure computation;
// the functions may run concurrently (the model is only read).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "core/trajectory.h"
#include "core/types.h"

namespace recloop {

// target_pmfs[i][t] is the target policy's pmf over the candidates of
// trajectories[i].steps[t].context (Policy::probabilities of that context).
using TargetPmfs = std::vector<std::vector<std::vector<double>>>;

// A model of the target policy's action values Q̂(s, a), for the model-based
// estimators. Implementations: LinearActionValueModel (evaluation/fitted_q.h).
class ActionValueModel {
 public:
  virtual ~ActionValueModel() = default;
  // Writes Q̂(state, a) for every candidate a of `state` into out (length
  // state.size()). Must be safe to call concurrently.
  virtual void values(const Context& state, std::span<double> out) const = 0;
};

struct SequentialConfig {
  double gamma = 1.0;   // discount in [0, 1]
  double alpha = 0.05;  // the intervals are two-sided (1 - alpha), alpha in (0, 1)
  // Per-step cap c on ρ_t (> 0); infinity = no capping. Capping biases.
  double max_step_weight = std::numeric_limits<double>::infinity();
  std::size_t bootstrap_replicates = 200;  // B for WPDIS, WDR, MAGIC; >= 10
  std::uint64_t seed = 0;                  // seeds the bootstrap's Rng
};

struct MagicConfig {
  // Partial lengths j (each in [-1, H_max - 1], larger ones are clamped to
  // H_max - 1). Empty: every j from -1 to H_max - 1 when that is at most
  // max_partial_lengths values, else max_partial_lengths values spread evenly
  // over that range (always including -1 and H_max - 1).
  std::vector<int> partial_lengths;
  std::size_t max_partial_lengths = 32;  // >= 2
  // The bias bound's interval is the bootstrap (1 - bias_delta) interval of
  // WPDIS; Thomas & Brunskill use a 50% interval. In (0, 1).
  double bias_delta = 0.5;
};

struct SequentialEstimate {
  double value = 0.0;      // estimate of V(π)
  double std_error = 0.0;  // estimated standard error of value
  double lower = 0.0;      // two-sided (1 - alpha) confidence interval
  double upper = 0.0;
  std::size_t trajectories = 0;
  std::size_t transitions = 0;
  // Kong's effective sample size (Σ_i W_i)² / Σ_i W_i² of the final
  // cumulative weights W_i = w_{H_i - 1}^i; n when every weight is equal, 0
  // when every weight is 0.
  double effective_sample_size = 0.0;
  double max_cumulative_weight = 0.0;      // max over i, t of w_t^i
  std::size_t zero_probability_steps = 0;  // steps the target gives probability 0 (ρ_t = 0)
  std::size_t truncated_trajectories = 0;  // Trajectory::terminated == false
  // MAGIC only: the partial lengths used and their blend weights x*.
  std::vector<int> partial_lengths;
  std::vector<double> blend_weights;
};

// One model per trajectory (models[i] scores trajectory i, not null): for
// cross-fitting, where trajectory i is scored by a model fit without it
// (cross_fitted_q_evaluation in evaluation/fitted_q.h).
using TrajectoryModels = std::vector<const ActionValueModel*>;

// Each estimator throws std::invalid_argument when: target_pmfs does not have
// one pmf per step with one probability per candidate; a behaviour
// probability is unknown (0), negative, above 1 or not finite (the message
// names the session and step; estimate it with a behaviour model first); an
// action is not a candidate; a reward or target probability is not finite; or
// a SequentialConfig / MagicConfig field is out of range. With no
// trajectories the value is NaN and the interval infinite.

SequentialEstimate estimate_pdis(const std::vector<Trajectory>& trajectories,
                                 const TargetPmfs& target_pmfs, const SequentialConfig& config);
SequentialEstimate estimate_wpdis(const std::vector<Trajectory>& trajectories,
                                  const TargetPmfs& target_pmfs, const SequentialConfig& config);
SequentialEstimate estimate_sequential_dr(const std::vector<Trajectory>& trajectories,
                                          const TargetPmfs& target_pmfs,
                                          const ActionValueModel& model,
                                          const SequentialConfig& config);
SequentialEstimate estimate_wdr(const std::vector<Trajectory>& trajectories,
                                const TargetPmfs& target_pmfs, const ActionValueModel& model,
                                const SequentialConfig& config);
SequentialEstimate estimate_magic(const std::vector<Trajectory>& trajectories,
                                  const TargetPmfs& target_pmfs, const ActionValueModel& model,
                                  const SequentialConfig& config, const MagicConfig& magic = {});

// The model-based estimators with one model per trajectory; the versions
// above pass the same model for every trajectory. Also std::invalid_argument
// when models has not one non-null entry per trajectory.
SequentialEstimate estimate_sequential_dr(const std::vector<Trajectory>& trajectories,
                                          const TargetPmfs& target_pmfs,
                                          const TrajectoryModels& models,
                                          const SequentialConfig& config);
SequentialEstimate estimate_wdr(const std::vector<Trajectory>& trajectories,
                                const TargetPmfs& target_pmfs, const TrajectoryModels& models,
                                const SequentialConfig& config);
SequentialEstimate estimate_magic(const std::vector<Trajectory>& trajectories,
                                  const TargetPmfs& target_pmfs, const TrajectoryModels& models,
                                  const SequentialConfig& config, const MagicConfig& magic = {});

// Checks the shapes and probabilities as the estimators do (the same
// std::invalid_argument). With behaviour_probabilities false the behaviour
// probabilities are not read (FQE does not need them).
void check_trajectories(const std::vector<Trajectory>& trajectories,
                        const TargetPmfs& target_pmfs, bool behaviour_probabilities = true);

}  // namespace recloop

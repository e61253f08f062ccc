// SPDX-License-Identifier: Apache-2.0
#include "evaluation/sequential.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>

#include <Eigen/Dense>

#include "core/rng.h"
#include "core/sampling.h"
#include "evaluation/statistics.h"

namespace recloop {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

std::string where(const std::vector<Trajectory>& trajectories, std::size_t i, std::size_t t) {
  // An unnamed session is named by its index: "#i".
  std::string session = trajectories[i].session;
  if (session.empty()) session.append("#").append(std::to_string(i));
  return "sequential evaluation: session '" + session + "' step " + std::to_string(t);
}

void check_config(const SequentialConfig& config) {
  if (!(config.gamma >= 0.0 && config.gamma <= 1.0)) {
    throw std::invalid_argument("sequential evaluation: gamma = " + std::to_string(config.gamma) +
                                " must lie in [0, 1]");
  }
  if (!(config.alpha > 0.0 && config.alpha < 1.0)) {
    throw std::invalid_argument("sequential evaluation: alpha = " + std::to_string(config.alpha) +
                                " must lie in (0, 1)");
  }
  if (!(config.max_step_weight > 0.0)) {
    throw std::invalid_argument("sequential evaluation: max_step_weight = " +
                                std::to_string(config.max_step_weight) + " must be > 0");
  }
  if (config.bootstrap_replicates < 10) {
    throw std::invalid_argument("sequential evaluation: bootstrap_replicates = " +
                                std::to_string(config.bootstrap_replicates) + " must be >= 10");
  }
}

// The padded n x H_max matrices every estimator reads (column t = step t of
// every trajectory; past a trajectory's end: reward, Q̂ and V̂ 0, weight frozen):
//   W      w_t                          Wprev  w_{t-1} (column 0 is 1)
//   R      w_t γ^t r_t                  A      w_t γ^t (r_t - Q̂(s_t, a_t))
//   B      w_{t-1} γ^t V̂(s_t)
// A and B are filled only when a model is given.
struct Table {
  Eigen::MatrixXd W, Wprev, R, A, B;
  SequentialEstimate diagnostics;  // counts, ESS, max weight; value fields unset
};

Table build_table(const std::vector<Trajectory>& trajectories, const TargetPmfs& target_pmfs,
                  const SequentialConfig& config, const TrajectoryModels& models) {
  check_config(config);
  check_trajectories(trajectories, target_pmfs, true);
  const bool with_model = !models.empty();
  if (with_model && models.size() != trajectories.size()) {
    throw std::invalid_argument("sequential evaluation: " + std::to_string(models.size()) +
                                " models for " + std::to_string(trajectories.size()) +
                                " trajectories");
  }
  for (std::size_t i = 0; i < models.size(); ++i) {
    if (models[i] == nullptr) {
      throw std::invalid_argument("sequential evaluation: no model for trajectory " +
                                  std::to_string(i));
    }
  }
  const std::size_t n = trajectories.size();
  std::size_t horizon = 0;
  for (const auto& trajectory : trajectories) horizon = std::max(horizon, trajectory.steps.size());
  const auto rows = static_cast<Eigen::Index>(n);
  const auto columns = static_cast<Eigen::Index>(horizon);

  Table table;
  table.W.setZero(rows, columns);
  table.Wprev.setZero(rows, columns);
  table.R.setZero(rows, columns);
  if (with_model) {
    table.A.setZero(rows, columns);
    table.B.setZero(rows, columns);
  }
  SequentialEstimate& d = table.diagnostics;
  d.trajectories = n;
  d.transitions = transition_count(trajectories);
  std::vector<double> q;
  double weight_sum = 0.0, weight_square_sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& steps = trajectories[i].steps;
    if (!trajectories[i].terminated) ++d.truncated_trajectories;
    const auto r = static_cast<Eigen::Index>(i);
    double w = 1.0, discount = 1.0;
    for (std::size_t t = 0; t < horizon; ++t) {
      const auto c = static_cast<Eigen::Index>(t);
      table.Wprev(r, c) = w;
      if (t < steps.size()) {
        const TrajectoryStep& step = steps[t];
        const std::vector<double>& pmf = target_pmfs[i][t];
        const double target = pmf[step.action];
        if (target == 0.0) ++d.zero_probability_steps;
        const double rho = std::min(target / step.probability, config.max_step_weight);
        w *= rho;
        table.R(r, c) = w * discount * step.reward;
        if (with_model) {
          q.assign(step.context.size(), 0.0);
          models[i]->values(step.context, q);
          double v = 0.0;
          for (std::size_t a = 0; a < q.size(); ++a) v += pmf[a] * q[a];
          table.A(r, c) = w * discount * (step.reward - q[step.action]);
          table.B(r, c) = table.Wprev(r, c) * discount * v;
        }
        d.max_cumulative_weight = std::max(d.max_cumulative_weight, w);
        discount *= config.gamma;
      }
      table.W(r, c) = w;
    }
    weight_sum += w;
    weight_square_sum += w * w;
  }
  // Kong 1992, "A note on importance sampling using standardized weights"
  // (Tech. Rep. 348, Dept. of Statistics, U. Chicago): n_eff = (Σ W)² / Σ W².
  d.effective_sample_size = weight_square_sum > 0.0 ? weight_sum * weight_sum / weight_square_sum : 0.0;
  return table;
}

double ratio(double numerator, double denominator) {
  // A step where every (resampled) trajectory has weight 0 contributes 0: its
  // numerator is a sum of zero-weighted terms too.
  return denominator > 0.0 ? numerator / denominator : 0.0;
}

// WPDIS on the trajectories counted `counts` times: Σ_t (c'R_t) / (c'W_t).
double wpdis_value(const Table& table, const Eigen::VectorXd& counts) {
  const Eigen::RowVectorXd numerators = counts.transpose() * table.R;
  const Eigen::RowVectorXd denominators = counts.transpose() * table.W;
  double value = 0.0;
  for (Eigen::Index t = 0; t < numerators.size(); ++t) value += ratio(numerators[t], denominators[t]);
  return value;
}

// The per-step WDR terms a_t = c'A_t / c'W_t and b_t = c'B_t / c'Wprev_t, so
// that WDR = Σ_t (a_t + b_t) and MAGIC's g^(j) = Σ_{t<=j} (a_t + b_t) + b_{j+1}.
void wdr_step_terms(const Table& table, const Eigen::VectorXd& counts, Eigen::VectorXd& a,
                    Eigen::VectorXd& b) {
  const Eigen::RowVectorXd a_numerators = counts.transpose() * table.A;
  const Eigen::RowVectorXd w_sums = counts.transpose() * table.W;
  const Eigen::RowVectorXd b_numerators = counts.transpose() * table.B;
  const Eigen::RowVectorXd w_prev_sums = counts.transpose() * table.Wprev;
  const Eigen::Index horizon = a_numerators.size();
  a.resize(horizon);
  b.resize(horizon + 1);
  for (Eigen::Index t = 0; t < horizon; ++t) {
    a[t] = ratio(a_numerators[t], w_sums[t]);
    b[t] = ratio(b_numerators[t], w_prev_sums[t]);
  }
  b[horizon] = 0.0;  // V̂ past the longest trajectory: every trajectory has ended
}

double wdr_value(const Table& table, const Eigen::VectorXd& counts) {
  Eigen::VectorXd a, b;
  wdr_step_terms(table, counts, a, b);
  return a.sum() + b.sum();
}

// Multinomial resampling of n trajectories: counts[i] = times trajectory i
// is drawn in n draws with replacement (Efron 1979).
void draw_counts(Rng& rng, Eigen::VectorXd& counts) {
  counts.setZero();
  const auto n = static_cast<std::uint64_t>(counts.size());
  for (std::uint64_t k = 0; k < n; ++k) counts[static_cast<Eigen::Index>(uniform_index(rng, n))] += 1.0;
}

// The nearest-rank p-quantile of sorted values.
double quantile(const std::vector<double>& sorted, double p) {
  const double rank = std::ceil(p * static_cast<double>(sorted.size()));
  const std::size_t index = rank < 1.0 ? 0 : std::min(sorted.size() - 1, static_cast<std::size_t>(rank) - 1);
  return sorted[index];
}

// Percentile bootstrap interval around `value`: std_error = sd of the
// replicates, (lower, upper) = their alpha/2 and 1 - alpha/2 quantiles.
void set_percentile_interval(SequentialEstimate& e, double value, std::vector<double> replicates,
                             double alpha) {
  e.value = value;
  RunningMoments moments;
  for (double r : replicates) moments.add(r);
  e.std_error = std::sqrt(moments.sample_variance());
  std::sort(replicates.begin(), replicates.end());
  e.lower = quantile(replicates, alpha / 2.0);
  e.upper = quantile(replicates, 1.0 - alpha / 2.0);
}

template <typename Statistic>
std::vector<double> bootstrap(std::size_t n, const SequentialConfig& config, Statistic statistic) {
  Rng rng(config.seed);
  Eigen::VectorXd counts(static_cast<Eigen::Index>(n));
  std::vector<double> replicates;
  replicates.reserve(config.bootstrap_replicates);
  for (std::size_t b = 0; b < config.bootstrap_replicates; ++b) {
    draw_counts(rng, counts);
    replicates.push_back(statistic(counts));
  }
  return replicates;
}

SequentialEstimate empty_estimate(SequentialEstimate e) {
  e.value = std::numeric_limits<double>::quiet_NaN();
  e.std_error = kInfinity;
  e.lower = -kInfinity;
  e.upper = kInfinity;
  return e;
}

// Mean of i.i.d. per-trajectory terms with its normal interval.
SequentialEstimate mean_of_terms(SequentialEstimate e, const Eigen::VectorXd& terms, double alpha) {
  RunningMoments moments;
  for (double term : terms) moments.add(term);
  const Estimate m = mean_estimate(moments, alpha);
  e.value = m.value;
  e.std_error = m.std_error;
  e.lower = m.lower;
  e.upper = m.upper;
  return e;
}

// Euclidean projection of v onto the probability simplex (Held, Wolfe &
// Crowder 1974; Duchi, Shalev-Shwartz, Singer & Chandra 2008, Fig. 1).
Eigen::VectorXd project_to_simplex(const Eigen::VectorXd& v) {
  std::vector<double> sorted(v.data(), v.data() + v.size());
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  double cumulative = 0.0, theta = 0.0;
  for (std::size_t k = 0; k < sorted.size(); ++k) {
    cumulative += sorted[k];
    const double candidate = (cumulative - 1.0) / static_cast<double>(k + 1);
    if (sorted[k] - candidate > 0.0) theta = candidate;
  }
  return (v.array() - theta).max(0.0).matrix();
}

// argmin over the simplex of x'Mx for a positive semi-definite M, by
// accelerated projected gradient (Beck & Teboulle 2009, FISTA) with step
// 1/L, L = 2 λ_max(M), until no weight moves by 1e-12 or 500 iterations.
// J is small (<= a few dozen): at most ~J² · 500 flops. With M = 0 every x
// is optimal: all weight on the last.
Eigen::VectorXd minimize_on_simplex(const Eigen::MatrixXd& M) {
  const Eigen::Index J = M.rows();
  Eigen::VectorXd x = Eigen::VectorXd::Zero(J);
  x[J - 1] = 1.0;
  const double largest = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(M, Eigen::EigenvaluesOnly)
                             .eigenvalues()
                             .maxCoeff();
  if (!(largest > 0.0)) return x;
  const double step = 1.0 / (2.0 * largest);
  Eigen::VectorXd y = x, previous = x;
  double momentum = 1.0;
  for (int iteration = 0; iteration < 500; ++iteration) {
    x = project_to_simplex(y - step * 2.0 * (M * y));
    if ((x - previous).cwiseAbs().maxCoeff() < 1e-12) break;  // converged
    const double next = (1.0 + std::sqrt(1.0 + 4.0 * momentum * momentum)) / 2.0;
    y = x + ((momentum - 1.0) / next) * (x - previous);
    previous = x;
    momentum = next;
  }
  return x;
}

std::vector<int> choose_partial_lengths(const MagicConfig& magic, std::size_t horizon) {
  const int last = static_cast<int>(horizon) - 1;
  std::vector<int> lengths;
  if (!magic.partial_lengths.empty()) {
    for (int j : magic.partial_lengths) {
      if (j < -1) {
        throw std::invalid_argument("magic: partial length " + std::to_string(j) +
                                    " must be >= -1");
      }
      lengths.push_back(std::min(j, last));
    }
  } else if (horizon + 1 <= magic.max_partial_lengths) {
    for (int j = -1; j <= last; ++j) lengths.push_back(j);
  } else {
    const auto m = static_cast<double>(magic.max_partial_lengths);
    for (std::size_t k = 0; k < magic.max_partial_lengths; ++k) {
      lengths.push_back(-1 + static_cast<int>(std::lround(static_cast<double>(k) * (last + 1) / (m - 1.0))));
    }
  }
  std::sort(lengths.begin(), lengths.end());
  lengths.erase(std::unique(lengths.begin(), lengths.end()), lengths.end());
  return lengths;
}

// MAGIC on the trajectories counted `counts` times, given the bias interval
// [bias_lower, bias_upper] (Thomas & Brunskill 2016, MAGIC). Writes the
// blend weights to *weights when asked.
double magic_value(const Table& table, const Eigen::VectorXd& counts, const std::vector<int>& lengths,
                   double bias_lower, double bias_upper, std::vector<double>* weights) {
  const Eigen::Index n = table.W.rows(), horizon = table.W.cols();
  const auto J = static_cast<Eigen::Index>(lengths.size());
  // Normalisers of the replicate: S_t = c'W_t, S'_t = c'Wprev_t.
  const Eigen::RowVectorXd w_sums = counts.transpose() * table.W;
  const Eigen::RowVectorXd w_prev_sums = counts.transpose() * table.Wprev;
  // Per-trajectory contributions X(i, j), Σ_i c_i X(i, j) = g^(j):
  //   X(i, j) = Σ_{t<=j} (A_it / S_t + B_it / S'_t) + B_{i,j+1} / S'_{j+1}.
  Eigen::MatrixXd X(n, J);
  Eigen::VectorXd running = Eigen::VectorXd::Zero(n);
  Eigen::Index t = 0;
  for (Eigen::Index k = 0; k < J; ++k) {
    for (; t <= lengths[static_cast<std::size_t>(k)]; ++t) {
      if (w_sums[t] > 0.0) running += table.A.col(t) / w_sums[t];
      if (w_prev_sums[t] > 0.0) running += table.B.col(t) / w_prev_sums[t];
    }
    X.col(k) = running;
    if (t < horizon && w_prev_sums[t] > 0.0) X.col(k) += table.B.col(t) / w_prev_sums[t];
  }
  const Eigen::VectorXd g = X.transpose() * counts;
  // Ω̂_n(j, k) = n/(n-1) Σ_i c_i (X_ij - ḡ_j)(X_ik - ḡ_k), ḡ = g / n.
  const double size = counts.sum();
  const Eigen::MatrixXd centred = X.rowwise() - (g / size).transpose();
  const Eigen::MatrixXd omega =
      size > 1.0 ? Eigen::MatrixXd(size / (size - 1.0) *
                                   (centred.transpose() * counts.asDiagonal() * centred))
                 : Eigen::MatrixXd::Zero(J, J);
  // b̂_n(j) = distance from g^(j) to the bias interval.
  Eigen::VectorXd bias(J);
  for (Eigen::Index k = 0; k < J; ++k) {
    bias[k] = g[k] < bias_lower ? bias_lower - g[k] : (g[k] > bias_upper ? g[k] - bias_upper : 0.0);
  }
  const Eigen::MatrixXd M = omega + bias * bias.transpose();
  // Scale for the solver only (x* is invariant to a positive factor).
  const double scale = M.diagonal().maxCoeff();
  const Eigen::VectorXd x = minimize_on_simplex(scale > 0.0 ? Eigen::MatrixXd(M / scale) : M);
  if (weights != nullptr) weights->assign(x.data(), x.data() + x.size());
  return x.dot(g);
}

}  // namespace

void check_trajectories(const std::vector<Trajectory>& trajectories, const TargetPmfs& target_pmfs,
                        bool behaviour_probabilities) {
  if (target_pmfs.size() != trajectories.size()) {
    throw std::invalid_argument("sequential evaluation: " + std::to_string(target_pmfs.size()) +
                                " target pmf lists for " + std::to_string(trajectories.size()) +
                                " trajectories");
  }
  for (std::size_t i = 0; i < trajectories.size(); ++i) {
    const auto& steps = trajectories[i].steps;
    if (target_pmfs[i].size() != steps.size()) {
      throw std::invalid_argument(where(trajectories, i, 0) + ": " +
                                  std::to_string(target_pmfs[i].size()) + " target pmfs for " +
                                  std::to_string(steps.size()) + " steps");
    }
    for (std::size_t t = 0; t < steps.size(); ++t) {
      const TrajectoryStep& step = steps[t];
      const std::vector<double>& pmf = target_pmfs[i][t];
      if (pmf.size() != step.context.size()) {
        throw std::invalid_argument(where(trajectories, i, t) + ": target pmf has " +
                                    std::to_string(pmf.size()) + " entries for " +
                                    std::to_string(step.context.size()) + " candidates");
      }
      if (step.action >= step.context.size()) {
        throw std::invalid_argument(where(trajectories, i, t) + ": action " +
                                    std::to_string(step.action) + " is not one of the " +
                                    std::to_string(step.context.size()) + " candidates");
      }
      for (double p : pmf) {
        if (!(p >= 0.0 && std::isfinite(p))) {
          throw std::invalid_argument(where(trajectories, i, t) + ": target probability " +
                                      std::to_string(p) + " is not a finite value >= 0");
        }
      }
      if (!std::isfinite(step.reward)) {
        throw std::invalid_argument(where(trajectories, i, t) + ": reward is not finite");
      }
      if (!behaviour_probabilities) continue;
      if (step.probability == 0.0) {
        throw std::invalid_argument(where(trajectories, i, t) +
                                    ": behaviour probability unknown (0); estimate it with a "
                                    "behaviour model first");
      }
      if (!(step.probability > 0.0 && step.probability <= 1.0)) {
        throw std::invalid_argument(where(trajectories, i, t) + ": behaviour probability " +
                                    std::to_string(step.probability) + " is not in (0, 1]");
      }
    }
  }
}

SequentialEstimate estimate_pdis(const std::vector<Trajectory>& trajectories,
                                 const TargetPmfs& target_pmfs, const SequentialConfig& config) {
  const Table table = build_table(trajectories, target_pmfs, config, {});
  if (trajectories.empty()) return empty_estimate(table.diagnostics);
  // Precup et al. 2000: the per-trajectory terms Σ_t γ^t w_t r_t are i.i.d.
  return mean_of_terms(table.diagnostics, table.R.rowwise().sum(), config.alpha);
}

SequentialEstimate estimate_wpdis(const std::vector<Trajectory>& trajectories,
                                  const TargetPmfs& target_pmfs, const SequentialConfig& config) {
  const Table table = build_table(trajectories, target_pmfs, config, {});
  if (trajectories.empty()) return empty_estimate(table.diagnostics);
  SequentialEstimate e = table.diagnostics;
  const Eigen::VectorXd ones = Eigen::VectorXd::Ones(static_cast<Eigen::Index>(trajectories.size()));
  set_percentile_interval(
      e, wpdis_value(table, ones),
      bootstrap(trajectories.size(), config,
                [&](const Eigen::VectorXd& counts) { return wpdis_value(table, counts); }),
      config.alpha);
  return e;
}

SequentialEstimate estimate_sequential_dr(const std::vector<Trajectory>& trajectories,
                                          const TargetPmfs& target_pmfs,
                                          const TrajectoryModels& models,
                                          const SequentialConfig& config) {
  const Table table = build_table(trajectories, target_pmfs, config, models);
  if (trajectories.empty()) return empty_estimate(table.diagnostics);
  // Jiang & Li 2016's recursion unrolled: V_DR^i = Σ_t (A_it + B_it), i.i.d. over i.
  return mean_of_terms(table.diagnostics, table.A.rowwise().sum() + table.B.rowwise().sum(),
                       config.alpha);
}

SequentialEstimate estimate_wdr(const std::vector<Trajectory>& trajectories,
                                const TargetPmfs& target_pmfs, const TrajectoryModels& models,
                                const SequentialConfig& config) {
  const Table table = build_table(trajectories, target_pmfs, config, models);
  if (trajectories.empty()) return empty_estimate(table.diagnostics);
  SequentialEstimate e = table.diagnostics;
  const Eigen::VectorXd ones = Eigen::VectorXd::Ones(static_cast<Eigen::Index>(trajectories.size()));
  set_percentile_interval(
      e, wdr_value(table, ones),
      bootstrap(trajectories.size(), config,
                [&](const Eigen::VectorXd& counts) { return wdr_value(table, counts); }),
      config.alpha);
  return e;
}

SequentialEstimate estimate_magic(const std::vector<Trajectory>& trajectories,
                                  const TargetPmfs& target_pmfs, const TrajectoryModels& models,
                                  const SequentialConfig& config, const MagicConfig& magic) {
  if (magic.max_partial_lengths < 2) {
    throw std::invalid_argument("magic: max_partial_lengths = " +
                                std::to_string(magic.max_partial_lengths) + " must be >= 2");
  }
  if (!(magic.bias_delta > 0.0 && magic.bias_delta < 1.0)) {
    throw std::invalid_argument("magic: bias_delta = " + std::to_string(magic.bias_delta) +
                                " must lie in (0, 1)");
  }
  const Table table = build_table(trajectories, target_pmfs, config, models);
  if (trajectories.empty() || table.W.cols() == 0) return empty_estimate(table.diagnostics);
  SequentialEstimate e = table.diagnostics;
  e.partial_lengths = choose_partial_lengths(magic, static_cast<std::size_t>(table.W.cols()));
  const std::size_t n = trajectories.size();

  // The bias interval: the bootstrap (1 - δ) percentile interval of WPDIS.
  SequentialConfig inner = config;  // a seed stream of its own
  inner.seed = stream_seed(config.seed, 1);
  std::vector<double> wis = bootstrap(
      n, inner, [&](const Eigen::VectorXd& counts) { return wpdis_value(table, counts); });
  std::sort(wis.begin(), wis.end());
  const double bias_lower = quantile(wis, magic.bias_delta / 2.0);
  const double bias_upper = quantile(wis, 1.0 - magic.bias_delta / 2.0);

  const Eigen::VectorXd ones = Eigen::VectorXd::Ones(static_cast<Eigen::Index>(n));
  const double value =
      magic_value(table, ones, e.partial_lengths, bias_lower, bias_upper, &e.blend_weights);
  // The interval: MAGIC recomputed (g, Ω̂, b̂ and x*) on each resample. A
  // bootstrap inside the bootstrap for each resample's bias interval would
  // cost B² passes, so the resample's interval is the whole sample's shifted
  // by the change in WPDIS: [WIS* - (WIS - lo), WIS* + (hi - WIS)]. (Holding
  // the interval fixed instead pulls every resample's blend towards the
  // original interval and makes the bootstrap spread far too small.) The
  // resamples are those of estimate_wdr with the same config.
  const double wis_value = wpdis_value(table, ones);
  std::vector<double> wdr_replicates;
  wdr_replicates.reserve(config.bootstrap_replicates);
  set_percentile_interval(e, value,
                          bootstrap(n, config,
                                    [&](const Eigen::VectorXd& counts) {
                                      wdr_replicates.push_back(wdr_value(table, counts));
                                      const double shift = wpdis_value(table, counts) - wis_value;
                                      return magic_value(table, counts, e.partial_lengths,
                                                         bias_lower + shift, bias_upper + shift,
                                                         nullptr);
                                    }),
                          config.alpha);
  // The resamples hold the model fixed, so they miss the model's own error
  // when it was fit on these trajectories, and MAGIC leans on the model-only
  // g^(-1) exactly when that error hides inside the WPDIS interval. The
  // interval reported is therefore the hull of MAGIC's bootstrap interval and
  // WDR's on the same resamples (the seed of estimate_wdr with this config,
  // so it contains that interval): it covers V(π) whenever WDR's does.
  SequentialEstimate wdr;
  set_percentile_interval(wdr, wdr_value(table, ones), std::move(wdr_replicates), config.alpha);
  e.lower = std::min(e.lower, wdr.lower);
  e.upper = std::max(e.upper, wdr.upper);
  return e;
}

namespace {

TrajectoryModels same_model(const ActionValueModel& model, std::size_t trajectories) {
  return TrajectoryModels(trajectories, &model);
}

}  // namespace

SequentialEstimate estimate_sequential_dr(const std::vector<Trajectory>& trajectories,
                                          const TargetPmfs& target_pmfs,
                                          const ActionValueModel& model,
                                          const SequentialConfig& config) {
  return estimate_sequential_dr(trajectories, target_pmfs, same_model(model, trajectories.size()),
                                config);
}

SequentialEstimate estimate_wdr(const std::vector<Trajectory>& trajectories,
                                const TargetPmfs& target_pmfs, const ActionValueModel& model,
                                const SequentialConfig& config) {
  return estimate_wdr(trajectories, target_pmfs, same_model(model, trajectories.size()), config);
}

SequentialEstimate estimate_magic(const std::vector<Trajectory>& trajectories,
                                  const TargetPmfs& target_pmfs, const ActionValueModel& model,
                                  const SequentialConfig& config, const MagicConfig& magic) {
  return estimate_magic(trajectories, target_pmfs, same_model(model, trajectories.size()), config,
                        magic);
}

}  // namespace recloop

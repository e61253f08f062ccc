// SPDX-License-Identifier: Apache-2.0
#include "simulator/calibration.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <numbers>
#include <numeric>
#include <stdexcept>

#include <Eigen/Dense>

namespace recloop {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kLogitClip = 1e-3;  // a_i clipped to [kLogitClip, 1 - kLogitClip] before logit
constexpr double kProbabilityClip = 1e-12;  // click probabilities clipped before log

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double logit_of(double a) {
  a = std::clamp(a, kLogitClip, 1.0 - kLogitClip);
  return std::log(a / (1.0 - a));
}

std::string ranking_id(const EventId& event_id) {
  const auto slash = event_id.rfind('/');
  return slash == std::string::npos ? event_id : event_id.substr(0, slash);
}

// Least squares of y on [1, x]: {intercept, slope, residual variance (n - 2 dof)}.
struct LineFit {
  double intercept = 0.0, slope = 0.0, residual_variance = 0.0;
};
LineFit fit_line(const std::vector<double>& x, const std::vector<double>& y) {
  const auto n = static_cast<double>(x.size());
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxx = 0.0, sxy = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
  }
  LineFit fit;
  fit.slope = sxx > 0.0 ? sxy / sxx : 0.0;
  fit.intercept = my - fit.slope * mx;
  double rss = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double r = y[i] - fit.intercept - fit.slope * x[i];
    rss += r * r;
  }
  fit.residual_variance = x.size() > 2 ? rss / (n - 2.0) : 0.0;
  return fit;
}

}  // namespace

double CalibrationResult::predicted_logit(std::size_t i, const Eigen::VectorXd& y) const {
  if (!factors) return logit_of(attractiveness[i]);
  assert(static_cast<std::size_t>(y.size()) == user_dim);
  double x = item_bias[i];
  for (std::size_t j = 0; j < user_dim; ++j) x += y(static_cast<Eigen::Index>(j)) * item_factors[i * user_dim + j];
  return x;
}

CalibrationData::CalibrationData(std::int64_t popularity_row) : popularity_row_(popularity_row) {}

std::size_t CalibrationData::item_index(ItemId item) {
  const auto [it, inserted] = index_.try_emplace(item, items_.size());
  if (inserted) {
    items_.push_back(item);
    cells_.emplace_back();
    log_popularity_.push_back(kNaN);
  }
  return it->second;
}

void CalibrationData::add(const Interaction& interaction) {
  const auto& id = interaction.event_id;
  const double p = interaction.probability;
  if (!std::isfinite(p) || p <= 0.0 || p > 1.0) {
    throw std::invalid_argument("event '" + id + "': logged probability " + std::to_string(p) +
                                " is not in (0, 1]; calibration weights each row by 1 / probability");
  }
  if (!std::isfinite(interaction.reward)) {
    throw std::invalid_argument("event '" + id + "': reward is not finite");
  }
  if (interaction.slot >= ChoiceModel::kMaxSlots) {
    throw std::invalid_argument("event '" + id + "': slot " + std::to_string(interaction.slot) +
                                " is beyond the longest slate (" +
                                std::to_string(ChoiceModel::kMaxSlots) + ")");
  }
  const Context& context = interaction.context;
  if (interaction.action >= context.size()) {
    throw std::invalid_argument("event '" + id + "': action " + std::to_string(interaction.action) +
                                " is outside its context of " + std::to_string(context.size()) +
                                " candidates");
  }
  if (popularity_row_ >= 0 && popularity_row_ >= context.actions.rows()) {
    throw std::invalid_argument("event '" + id + "': the context has " +
                                std::to_string(context.actions.rows()) +
                                " item-feature rows, no popularity row " +
                                std::to_string(popularity_row_));
  }
  const std::size_t i = item_index(context.items[interaction.action]);
  const std::size_t k = interaction.slot;
  auto& row = cells_[i];
  if (row.size() <= k) row.resize(k + 1);
  slots_ = std::max(slots_, k + 1);
  const bool click = interaction.reward > 0.0;
  const double w = 1.0 / p;
  Cell& cell = row[k];
  cell.n += 1.0;
  cell.w += w;
  cell.w2 += w * w;
  if (click) {
    cell.clicks += 1.0;
    cell.wc += w;
    cell.w2c += w * w;
  }
  if (p < 1.0) all_certain_ = false;
  if (popularity_row_ >= 0) {
    const double lp =
        context.actions(static_cast<Eigen::Index>(popularity_row_), static_cast<Eigen::Index>(interaction.action));
    if (!std::isfinite(lp)) {
      throw std::invalid_argument("event '" + id + "': log popularity " + std::to_string(lp) +
                                  " (row " + std::to_string(popularity_row_) + ") is not finite");
    }
    log_popularity_[i] = lp;
  }
  const Eigen::VectorXd& y = context.user;
  if (rows_ == 0) user_dim_ = static_cast<std::size_t>(y.size());
  if (static_cast<std::size_t>(y.size()) != user_dim_) {
    throw std::invalid_argument("event '" + id + "': " + std::to_string(y.size()) +
                                " user features, the first row had " + std::to_string(user_dim_));
  }
  if (!y.allFinite()) throw std::invalid_argument("event '" + id + "': user features not finite");
  // Rows of one ranking arrive together: store the features once per run of equal users.
  const bool same_user =
      n_users_ > 0 && std::equal(y.data(), y.data() + user_dim_, users_.end() - static_cast<std::ptrdiff_t>(user_dim_));
  if (!same_user) {
    users_.insert(users_.end(), y.data(), y.data() + user_dim_);
    ++n_users_;
  }
  log_rows_.push_back({.item = static_cast<std::uint32_t>(i),
                       .user = static_cast<std::uint32_t>(n_users_ - 1),
                       .slot = static_cast<std::uint8_t>(k),
                       .click = click,
                       .w = w});
  auto& clicks = ranking_clicks_[ranking_id(id)];
  if (click) ++clicks;
  if (k == 0) {
    ++candidate_counts_[context.size()];
    offered_.insert(context.items.begin(), context.items.end());
  }
  ++rows_;
}

CalibrationResult CalibrationData::fit(const CalibrationOptions& options) const {
  if (rows_ == 0) throw std::invalid_argument("no logged slots to calibrate from");
  if (slots_ < 2) {
    throw std::invalid_argument(
        "every logged decision is at slot 0: position bias needs rankings of 2 or more slots");
  }
  if (!(options.signal >= 0.0 && options.signal <= 10.0)) {
    throw std::invalid_argument("signal " + std::to_string(options.signal) + " is not in [0, 10]");
  }
  if (options.max_iterations < 1 || !(options.tolerance > 0.0)) {
    throw std::invalid_argument("max_iterations must be >= 1 and tolerance > 0");
  }
  if (options.factor_iterations < 0 || options.factor_iterations > 1000 ||
      !(options.factor_l2 >= 0.0 && options.factor_l2 <= 1e6)) {
    throw std::invalid_argument("factor_iterations " + std::to_string(options.factor_iterations) +
                                " must be in [0, 1000] and factor_l2 " +
                                std::to_string(options.factor_l2) + " in [0, 1e6]");
  }
  if (options.choice && *options.choice != ChoiceModelKind::kPositionBased &&
      *options.choice != ChoiceModelKind::kMultiClick) {
    throw std::invalid_argument("calibration fits pbm or multi_click, not " +
                                std::string(choice_model_name(*options.choice)));
  }
  const std::size_t n = items_.size();
  const std::size_t L = slots_;
  const bool weighted = options.weighted;
  auto W = [&](const Cell& c) { return weighted ? c.w : c.n; };
  auto C = [&](const Cell& c) { return weighted ? c.wc : c.clicks; };
  auto W2 = [&](const Cell& c) { return weighted ? c.w2 : c.n; };
  auto W2c = [&](const Cell& c) { return weighted ? c.w2c : c.clicks; };

  CalibrationResult r;
  r.items = items_;
  r.slots = L;
  r.rows = rows_;
  r.rankings = ranking_clicks_.size();
  r.catalogue = std::max(offered_.size(), n);
  r.weighted = weighted;
  r.deterministic_logger = all_certain_;
  for (const auto& [ranking, clicks] : ranking_clicks_) {
    r.max_clicks_per_ranking = std::max(r.max_clicks_per_ranking, clicks);
  }
  std::size_t best_count = 0;
  for (const auto& [k, count] : candidate_counts_) {
    if (count > best_count || (count == best_count && k > r.candidates)) {
      best_count = count;
      r.candidates = k;
    }
  }

  // Naive, position-ignorant and unweighted.
  r.impressions.assign(n, 0.0);
  r.clicks.assign(n, 0.0);
  r.naive_ctr.assign(n, 0.0);
  r.slot_impressions.assign(L, 0.0);
  std::vector<double> slot_clicks(L, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < cells_[i].size(); ++k) {
      r.impressions[i] += cells_[i][k].n;
      r.clicks[i] += cells_[i][k].clicks;
      r.slot_impressions[k] += cells_[i][k].n;
      slot_clicks[k] += cells_[i][k].clicks;
    }
    r.naive_ctr[i] = r.clicks[i] / r.impressions[i];
  }
  if (slot_clicks[0] <= 0.0) {
    throw std::invalid_argument("no clicks at slot 0: the position effects relative to slot 0 "
                                "are not identified");
  }
  r.naive_theta.assign(L, kNaN);
  const double ctr0 = slot_clicks[0] / r.slot_impressions[0];
  for (std::size_t k = 0; k < L; ++k) {
    if (r.slot_impressions[k] > 0.0) r.naive_theta[k] = slot_clicks[k] / r.slot_impressions[k] / ctr0;
  }

  // EM for the position-based model (Chuklin et al. 2015, sec. 4.2): given a
  // row without a click, P(attracted | no click) = alpha (1 - theta) / (1 - theta alpha)
  // and P(examined | no click) = theta (1 - alpha) / (1 - theta alpha); the
  // M-step sets each parameter to the (weighted) mean of its hidden event.
  std::vector<double> alpha(n), theta(L);
  for (std::size_t i = 0; i < n; ++i) {
    double w = 0.0, c = 0.0;
    for (const auto& cell : cells_[i]) {
      w += W(cell);
      c += C(cell);
    }
    alpha[i] = std::clamp(w > 0.0 ? c / w : 0.5, 0.01, 0.99);
  }
  for (std::size_t k = 0; k < L; ++k) theta[k] = 0.9 / static_cast<double>(k + 1);
  std::vector<double> num_a(n), den_a(n), num_t(L), den_t(L);
  for (r.iterations = 1; r.iterations <= options.max_iterations; ++r.iterations) {
    std::fill(num_a.begin(), num_a.end(), 0.0);
    std::fill(den_a.begin(), den_a.end(), 0.0);
    std::fill(num_t.begin(), num_t.end(), 0.0);
    std::fill(den_t.begin(), den_t.end(), 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      const double a = alpha[i];
      for (std::size_t k = 0; k < cells_[i].size(); ++k) {
        const Cell& cell = cells_[i][k];
        const double w = W(cell);
        if (w <= 0.0) continue;
        const double c = C(cell);
        const double t = theta[k];
        const double q = std::max(1.0 - t * a, 1e-300);
        num_a[i] += c + (w - c) * a * (1.0 - t) / q;
        den_a[i] += w;
        num_t[k] += c + (w - c) * t * (1.0 - a) / q;
        den_t[k] += w;
      }
    }
    double change = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const double next = num_a[i] / den_a[i];
      change = std::max(change, std::abs(next - alpha[i]));
      alpha[i] = next;
    }
    for (std::size_t k = 0; k < L; ++k) {
      const double next = den_t[k] > 0.0 ? num_t[k] / den_t[k] : theta[k];
      change = std::max(change, std::abs(next - theta[k]));
      theta[k] = next;
    }
    if (change < options.tolerance) {
      r.converged = true;
      break;
    }
  }
  r.iterations = std::min(r.iterations, options.max_iterations);
  // The likelihood depends on theta_k alpha_i only: normalise theta_0 = 1.
  const double scale = theta[0];
  for (auto& t : theta) t /= scale;
  for (auto& a : alpha) a *= scale;

  // Sandwich covariance with parameters (alpha_0..alpha_{n-1}, theta_1..theta_{L-1}).
  // Per row l = c log(t a) + (1 - c) log(1 - t a); score (c/a - (1-c) t/q, c/t - (1-c) a/q),
  // q = 1 - t a; negative Hessian entries c/a^2 + (1-c) t^2/q^2, c/t^2 + (1-c) a^2/q^2,
  // cross (1-c)/q^2.
  const auto m = static_cast<Eigen::Index>(L - 1);
  const auto nn = static_cast<Eigen::Index>(n);
  Eigen::VectorXd D = Eigen::VectorXd::Zero(nn), Baa = Eigen::VectorXd::Zero(nn);
  Eigen::VectorXd T = Eigen::VectorXd::Zero(m), Btt = Eigen::VectorXd::Zero(m);
  Eigen::MatrixXd X = Eigen::MatrixXd::Zero(nn, m), Bx = Eigen::MatrixXd::Zero(nn, m);
  for (std::size_t i = 0; i < n; ++i) {
    const double a = alpha[i];
    const auto ii = static_cast<Eigen::Index>(i);
    for (std::size_t k = 0; k < cells_[i].size(); ++k) {
      const Cell& cell = cells_[i][k];
      if (W(cell) <= 0.0) continue;
      const double t = theta[k];
      const double q = std::max(1.0 - t * a, 1e-12);
      const double no = W(cell) - C(cell), no2 = W2(cell) - W2c(cell);
      const double c = C(cell), c2 = W2c(cell);
      D(ii) += (c > 0.0 ? c / (a * a) : 0.0) + no * t * t / (q * q);
      Baa(ii) += (c2 > 0.0 ? c2 / (a * a) : 0.0) + no2 * t * t / (q * q);
      if (k == 0) continue;
      const auto j = static_cast<Eigen::Index>(k - 1);
      T(j) += (c > 0.0 ? c / (t * t) : 0.0) + no * a * a / (q * q);
      Btt(j) += (c2 > 0.0 ? c2 / (t * t) : 0.0) + no2 * a * a / (q * q);
      X(ii, j) += no / (q * q);
      Bx(ii, j) += (c2 > 0.0 ? c2 / (a * t) : 0.0) + no2 * a * t / (q * q);
    }
  }
  // Block inverse through the Schur complement S = T - X' D^-1 X (H is
  // diagonal in the item block).
  Eigen::VectorXd Dinv(nn);
  for (Eigen::Index i = 0; i < nn; ++i) Dinv(i) = D(i) > 0.0 ? 1.0 / D(i) : 0.0;
  const Eigen::MatrixXd Y = X.transpose() * Dinv.asDiagonal();  // m x n
  Eigen::MatrixXd S = Eigen::MatrixXd(T.asDiagonal()) - Y * X;
  const Eigen::MatrixXd M = S.ldlt().solve(Eigen::MatrixXd::Identity(m, m));
  const Eigen::MatrixXd Ga = -M * Y;  // theta rows of H^-1, item block
  const Eigen::MatrixXd cov_t = Ga * Baa.asDiagonal() * Ga.transpose() +
                                Ga * Bx * M.transpose() + M * Bx.transpose() * Ga.transpose() +
                                M * Btt.asDiagonal() * M.transpose();
  r.theta = theta;
  r.theta_se.assign(L, 0.0);
  for (Eigen::Index j = 0; j < m; ++j) r.theta_se[static_cast<std::size_t>(j + 1)] = std::sqrt(std::max(0.0, cov_t(j, j)));
  const Eigen::MatrixXd Q = Y * Baa.asDiagonal() * Y.transpose();
  const Eigen::MatrixXd R = Y * Bx;
  std::vector<double> alpha_se(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto ii = static_cast<Eigen::Index>(i);
    const Eigen::VectorXd y = Y.col(ii);
    const Eigen::VectorXd v = M * y;
    const double var = Dinv(ii) * Dinv(ii) * Baa(ii) + 2.0 * Dinv(ii) * Baa(ii) * v.dot(y) +
                       v.dot(Q * v) - 2.0 * (Dinv(ii) * Bx.row(ii).dot(v) + v.dot(R * v)) +
                       v.dot(Btt.asDiagonal() * v);
    alpha_se[i] = D(ii) > 0.0 ? std::sqrt(std::max(0.0, var)) : kNaN;
  }

  // Choice model and attractiveness on the world's scale.
  if (options.choice) {
    r.choice = *options.choice;
    r.choice_detected = false;
  } else {
    r.choice = r.max_clicks_per_ranking > 1 ? ChoiceModelKind::kMultiClick
                                            : ChoiceModelKind::kPositionBased;
  }
  double z = 1.0;
  if (r.choice == ChoiceModelKind::kPositionBased) {
    z = std::max(1.0, std::accumulate(theta.begin(), theta.end(), 0.0));
  }
  r.attractiveness.resize(n);
  r.attractiveness_se.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    r.attractiveness[i] = z * alpha[i];
    r.attractiveness_se[i] = z * alpha_se[i];
  }
  {
    double ll = 0.0, total = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t k = 0; k < cells_[i].size(); ++k) {
        const Cell& cell = cells_[i][k];
        const double p = std::clamp(theta[k] * alpha[i], kProbabilityClip, 1.0 - kProbabilityClip);
        ll += C(cell) * std::log(p) + (W(cell) - C(cell)) * std::log1p(-p);
        total += W(cell);
      }
    }
    r.loglik_attractiveness = ll / total;
  }
  if (options.factor_iterations > 0) fit_factors(theta, z, options, r);

  // position_decay by generalised least squares on log theta_k = -eta log(k + 1).
  {
    std::vector<Eigen::Index> use;
    for (Eigen::Index j = 0; j < m; ++j) {
      if (theta[static_cast<std::size_t>(j + 1)] > 0.0) use.push_back(j);
    }
    const auto u = static_cast<Eigen::Index>(use.size());
    if (u > 0) {
      Eigen::VectorXd x(u), y(u);
      Eigen::MatrixXd V(u, u);
      for (Eigen::Index a = 0; a < u; ++a) {
        const double ta = theta[static_cast<std::size_t>(use[a] + 1)];
        x(a) = -std::log(static_cast<double>(use[a] + 2));
        y(a) = std::log(ta);
        for (Eigen::Index b = 0; b < u; ++b) {
          const double tb = theta[static_cast<std::size_t>(use[b] + 1)];
          V(a, b) = cov_t(use[a], use[b]) / (ta * tb);
        }
      }
      const auto ldlt = V.ldlt();
      if (ldlt.info() == Eigen::Success && ldlt.isPositive() && V.diagonal().minCoeff() > 0.0) {
        const Eigen::VectorXd vx = ldlt.solve(x);
        const double info = x.dot(vx);
        r.eta = vx.dot(y) / info;
        r.eta_se = 1.0 / std::sqrt(info);
      } else {
        r.eta = x.dot(y) / x.dot(x);
        r.eta_se = kNaN;
      }
      r.eta = std::clamp(r.eta, 0.0, 10.0);
    }
  }

  // Bias level (and popularity) from the item logits.
  const double stretch = std::sqrt(1.0 + std::numbers::pi * options.signal * options.signal / 8.0);
  std::vector<double> logits(n), x(n, 0.0);
  double sampling_var = 0.0;
  r.log_popularity = log_popularity_;
  const bool with_popularity = popularity_row_ >= 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double a = std::clamp(r.attractiveness[i], kLogitClip, 1.0 - kLogitClip);
    logits[i] = stretch * std::log(a / (1.0 - a));
    const double se = stretch * r.attractiveness_se[i] / (a * (1.0 - a));
    if (std::isfinite(se)) sampling_var += se * se;
    if (with_popularity) x[i] = std::log(static_cast<double>(n)) + log_popularity_[i];
  }
  sampling_var /= static_cast<double>(n);
  if (with_popularity && n >= 3) {
    const LineFit line = fit_line(x, logits);
    r.bias_mean = line.intercept;
    r.popularity_weight = line.slope;
    r.bias_sd = std::sqrt(std::max(0.0, line.residual_variance - sampling_var));
    // Zipf: log p = -alpha log(rank + 1) - log H, ranks by decreasing share.
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return log_popularity_[a] > log_popularity_[b]; });
    std::vector<double> rank_x(n), rank_y(n);
    for (std::size_t s = 0; s < n; ++s) {
      rank_x[s] = std::log(static_cast<double>(s + 1));
      rank_y[s] = log_popularity_[order[s]];
    }
    r.zipf_exponent = std::clamp(-fit_line(rank_x, rank_y).slope, 0.0, 5.0);
  } else {
    const double mean = std::accumulate(logits.begin(), logits.end(), 0.0) / static_cast<double>(n);
    double ss = 0.0;
    for (const double l : logits) ss += (l - mean) * (l - mean);
    const double var = n > 1 ? ss / static_cast<double>(n - 1) : 0.0;
    r.bias_mean = mean;
    r.bias_sd = std::sqrt(std::max(0.0, var - sampling_var));
  }
  r.bias_mean = std::clamp(r.bias_mean, -10.0, 10.0);
  r.bias_sd = std::clamp(r.bias_sd, 0.0, 10.0);
  r.popularity_weight = std::clamp(r.popularity_weight, -5.0, 5.0);
  return r;
}

// Per item, Fisher scoring of the weighted log-likelihood of
// P = theta_k sigmoid(x) / z, x = b_i + y' q_i. With s = sigmoid(x):
//   dl/dx = c (1 - s) - (1 - c) (theta / z) s (1 - s) / (1 - P),
//   expected information I(x) = ((theta / z) s (1 - s))^2 / (P (1 - P)),
// and the step solves (sum w I f f' + lambda D) delta = sum w (dl/dx) f - lambda D beta,
// f = (1, y), D = diag(0, 1, ..., 1), lambda = factor_l2 * mean_w.
void CalibrationData::fit_factors(const std::vector<double>& theta, double z,
                                  const CalibrationOptions& options, CalibrationResult& r) const {
  const std::size_t n = items_.size();
  const std::size_t d = user_dim_;
  const auto dd = static_cast<Eigen::Index>(d + 1);
  r.factors = true;
  r.user_dim = d;
  r.item_bias.assign(n, 0.0);
  r.item_factors.assign(n * d, 0.0);
  std::vector<std::vector<std::uint32_t>> by_item(n);
  for (std::size_t row = 0; row < log_rows_.size(); ++row) {
    by_item[log_rows_[row].item].push_back(static_cast<std::uint32_t>(row));
  }
  const bool weighted = options.weighted;
  auto features = [&](std::uint32_t user, Eigen::VectorXd& f) {
    f(0) = 1.0;
    for (std::size_t j = 0; j < d; ++j) f(static_cast<Eigen::Index>(j + 1)) = users_[user * d + j];
  };
  double ll_total = 0.0, w_total = 0.0;
  Eigen::VectorXd f(dd), beta(dd), grad(dd), step(dd), trial(dd);
  Eigen::MatrixXd info(dd, dd);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& rows = by_item[i];
    double w_sum = 0.0;
    for (const std::uint32_t row : rows) w_sum += weighted ? log_rows_[row].w : 1.0;
    const double lambda = options.factor_l2 * w_sum / static_cast<double>(rows.size());
    // Penalised weighted log-likelihood of the item at coefficients b.
    auto objective = [&](const Eigen::VectorXd& b, double* unpenalised) {
      double ll = 0.0;
      for (const std::uint32_t row : rows) {
        const Row& o = log_rows_[row];
        features(o.user, f);
        const double p = std::clamp(theta[o.slot] * sigmoid(f.dot(b)) / z, kProbabilityClip,
                                    1.0 - kProbabilityClip);
        ll += (weighted ? o.w : 1.0) * (o.click ? std::log(p) : std::log1p(-p));
      }
      if (unpenalised) *unpenalised = ll;
      return ll - 0.5 * lambda * b.tail(dd - 1).squaredNorm();
    };
    beta.setZero();
    beta(0) = logit_of(r.attractiveness[i]);
    double current = objective(beta, nullptr);
    for (int it = 0; it < options.factor_iterations; ++it) {
      grad.setZero();
      info.setZero();
      for (const std::uint32_t row : rows) {
        const Row& o = log_rows_[row];
        features(o.user, f);
        const double w = weighted ? o.w : 1.0;
        const double s = sigmoid(f.dot(beta));
        const double g = theta[o.slot] / z * s * (1.0 - s);  // dP/dx
        const double p = std::clamp(theta[o.slot] * s / z, kProbabilityClip, 1.0 - kProbabilityClip);
        const double score = o.click ? (1.0 - s) : -g / (1.0 - p);
        grad.noalias() += (w * score) * f;
        info.noalias() += (w * g * g / (p * (1.0 - p))) * f * f.transpose();
      }
      for (Eigen::Index j = 1; j < dd; ++j) {
        grad(j) -= lambda * beta(j);
        info(j, j) += lambda;
      }
      info.diagonal().array() += 1e-9 * (1.0 + info.diagonal().array().abs());
      step = info.ldlt().solve(grad);
      if (!step.allFinite()) break;
      bool improved = false;
      for (double h = 1.0; h > 1e-4; h *= 0.5) {
        trial = beta + h * step;
        const double next = objective(trial, nullptr);
        if (next >= current) {
          beta = trial;
          current = next;
          improved = true;
          break;
        }
      }
      if (!improved) break;
    }
    double ll = 0.0;
    objective(beta, &ll);
    ll_total += ll;
    w_total += w_sum;
    r.item_bias[i] = beta(0);
    for (std::size_t j = 0; j < d; ++j) r.item_factors[i * d + j] = beta(static_cast<Eigen::Index>(j + 1));
  }
  r.loglik_factors = ll_total / w_total;
}

}  // namespace recloop

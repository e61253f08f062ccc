// SPDX-License-Identifier: Apache-2.0
// Calibration: the parameters of a population world (population_world.h)
// fitted from a logged ranking policy's clicks, corrected for the policy.
//
// Data. One row per logged slot (policies/ranker.h): item i shown at slot k
// with the logging ranker's marginal p = P(i at k | context) and a click
// c = 1[reward > 0]. Rows of one ranking share the ranking id (the event id
// up to its last '/'); a decision without a '/' is a ranking of one slot.
//
// Model. The position-based click model (Richardson et al. 2007; Chuklin,
// Markov & de Rijke 2015, "Click Models for Web Search", sec. 3.2 and 4.2):
//   P(click | i at k) = w_k alpha_i,  w_0 = 1,
// w_k the examination of slot k relative to slot 0 and alpha_i the click
// probability of item i at slot 0. In the world's terms (choice_model.h),
// theta_k = w_k under both linear models, and the attractiveness is
// a_i = alpha_i under multi_click, a_i = Z_L alpha_i under pbm
// (Z_L = max(1, sum_{k<L} theta_k), e_0(L) = 1 / Z_L). Under user
// heterogeneity a_i is the population mean of sigmoid(x_ui) over the users
// for whom i was a candidate.
//
// Fit. Maximum likelihood by EM over the hidden examination and
// attractiveness events (Chuklin et al. 2015, sec. 4.2), with every row
// weighted by w = 1 / p, the inverse of the item-position propensity (Li,
// Abbasi-Yadkori, Kveton et al. 2018, KDD: under a click model whose slot
// reward depends on item and position, that propensity is the marginal
// P(item at slot)). Wang et al. 2018 (WSDM, regression-EM) fit the same
// model by EM without a logger correction. Why the weights:
// E[sum over logged (i, k) of 1/p f(i, k)] = sum over every candidate i and
// slot k of f(i, k), so the weighted log-likelihood is an unbiased estimate
// of the log-likelihood of the full-information log in which every
// candidate is shown at every slot of every request. In that log position
// and item are not confounded by the logger (a ranker that shows popular or
// well-matched items at the top), and its maximiser is the true w_k and
// alpha_i when the click model holds. The unweighted fit (weighted = false)
// maximises the log-likelihood of the rows as logged, which the logger's
// choices bias. Requires p > 0 for every item the logger could place at
// every slot, i.e. some randomisation.
//
// Standard errors: sandwich (Huber) covariance H^-1 B H^-1 of the weighted
// score, rows treated as independent (the rows of one ranking share a user,
// which this ignores), with theta_0 = 1 fixed; H is sparse in blocks (items x
// items diagonal), so the exact inverse goes through the (L-1) x (L-1) Schur
// complement: O(n L^2). Under pbm the SE of a_i is Z_L times that of
// alpha_i (the uncertainty of Z_L itself is left out).
//
// Scalar keys of the population world fitted from the above:
//   position_decay eta: generalised least squares on log theta_k = -eta log(k + 1),
//     k = 1 .. L-1, with the delta-method covariance of log theta_k;
//   choice_model: multi_click if some ranking has two clicks, else pbm
//     (or as given);
//   bias_mean, bias_sd, popularity_weight: the item logits l_i = logit(a_i)
//     (a_i clipped to [0.001, 0.999]) regressed on log(n p_i) when the
//     contexts carry the log popularity share (popularity_row), else on a
//     constant (popularity_weight = 0); bias_mean = intercept, bias_sd^2 =
//     residual variance minus the mean sampling variance of l_i (delta
//     method), floored at 0. Under user heterogeneity the mean of a sigmoid
//     is flatter than the sigmoid of the mean logit; with a known affinity sd
//     `signal` the logits are divided by sqrt(1 + pi signal^2 / 8) (the probit
//     approximation of the logistic-normal mean) before the fit is inverted,
//     l = m / sqrt(1 + pi s^2 / 8) => m = l sqrt(1 + pi s^2 / 8);
//   zipf_exponent alpha: only from the logged log popularity shares
//     (popularity_row): least squares of log p_i on log(rank_i + 1), rank by
//     decreasing share. The logged exposure (how often an item was shown) is
//     not used: the logger chooses it. Its inverse-propensity correction,
//     sum_k 1[i at k] / P(i at k), estimates L times the number of requests
//     in which i was a candidate, which the contexts record exactly; under
//     uniform candidate sampling that count says nothing about popularity.
//
// Factors (factor_iterations > 0). With theta_k held at the EM fit, a
// logistic factor model of the examination-corrected click (Johnson 2014,
// "Logistic matrix factorization for implicit feedback data", eq. 1-2, with
// the examination term of the position-based model):
//   P(click | user u, item i, slot k) = theta_k sigmoid(b_i + y_u' q_i) / z,
// y_u the user's observed feature vector (the context's user features, the
// only identity a logged user has), b_i an item bias and q_i an item factor
// in the space of y (user_dim long), z = Z_L under pbm and 1 under
// multi_click, so that b_i + y_u' q_i is on the scale of the world's logit
// x_ui. This is the bilinear model sigmoid(b_i + y_u' W q_i) with W absorbed
// into q_i: a rank below user_dim would identify W q_i only up to rotation of
// q_i, the product y_u' W q_i is what the log identifies, and it is fitted
// directly. Every row is weighted by 1 / p as above (Schnabel, Swaminathan,
// Singh et al. 2016, "Recommendations as Treatments", eq. 9: the
// inverse-propensity-scored training loss); the unweighted fit uses w = 1.
// Since the users are observed, the fit separates by item: per item,
// factor_iterations steps of Fisher scoring of the weighted log-likelihood
// with the L2 penalty factor_l2 * mean_w / 2 * |q_i|^2 (mean_w the item's mean
// row weight, so the penalty counts in rows), each step halved until the
// penalised likelihood does not decrease. Starts from b_i = logit(a_i),
// q_i = 0, i.e. from the attractiveness-only model; deterministic (no
// random start). The weighted mean log-likelihood per unit weight is
// reported for the EM model and for the factor model. The weights matter
// less here than for theta and a_i: the logger chooses by the user features
// and popularity, which the factor model conditions on, so when it holds the
// unweighted fit is consistent too (covariate shift) and the weights only add
// variance; on the test world (tests/simulator/calibration_test.cc) the
// unweighted factor fit's logits correlate slightly better with the truth.
//
// Not fitted: the user population (signal, latent_dim, user types), which an
// item-level click model does not identify.
//
// Not thread-safe while adding; fit() is const.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <Eigen/Core>

#include "core/types.h"
#include "simulator/choice_model.h"

namespace recloop {

struct CalibrationOptions {
  bool weighted = true;      // weight rows by 1 / p (false: the unweighted fit, for comparison)
  // Item-feature row holding log(popularity share) (PopulationWorld::kLogPopularityRow),
  // -1 = the contexts carry no popularity.
  std::int64_t popularity_row = -1;
  // The choice model to fit, pbm or multi_click; empty = detected from the
  // clicks per ranking.
  std::optional<ChoiceModelKind> choice{};
  double signal = 0.0;       // sd of the user-item affinity assumed for the bias mapping, [0, 10]
  int max_iterations = 20000;  // EM iterations, >= 1
  double tolerance = 1e-10;    // EM stops when no parameter moves more than this
  int factor_iterations = 10;  // Fisher-scoring steps per item, [0, 1000]; 0 = no factor fit
  double factor_l2 = 1.0;      // L2 penalty on q_i in rows, [0, 1e6]
};

struct CalibrationResult {
  // Per item, in order of first appearance in the log.
  std::vector<ItemId> items;
  std::vector<double> impressions;     // rows (times shown)
  std::vector<double> clicks;          // clicked rows
  std::vector<double> attractiveness;  // fitted a_i
  std::vector<double> attractiveness_se;
  std::vector<double> naive_ctr;       // clicks / impressions, position-ignorant
  std::vector<double> log_popularity;  // logged log popularity share, NaN without popularity_row

  // Per slot k < slots.
  std::size_t slots = 0;               // L: the longest ranking
  std::vector<double> theta;           // fitted theta_k, theta_0 = 1
  std::vector<double> theta_se;        // theta_se[0] = 0 (fixed)
  std::vector<double> naive_theta;     // CTR at slot k / CTR at slot 0, unweighted
  std::vector<double> slot_impressions;

  double eta = 0.0;                    // position_decay
  double eta_se = 0.0;
  ChoiceModelKind choice = ChoiceModelKind::kPositionBased;
  bool choice_detected = true;         // choice came from the clicks, not the options
  std::size_t max_clicks_per_ranking = 0;

  double bias_mean = 0.0;
  double bias_sd = 0.0;
  double popularity_weight = 0.0;      // 0 without popularity_row
  std::optional<double> zipf_exponent; // only with popularity_row and >= 3 items

  std::size_t rows = 0;
  std::size_t rankings = 0;
  std::size_t catalogue = 0;           // distinct items offered as candidates (shown or not)
  std::size_t candidates = 0;          // most common number of candidates per request
  bool weighted = true;
  bool deterministic_logger = false;   // every logged marginal was 1: nothing to correct
  int iterations = 0;
  bool converged = false;

  // Factor model (header comment), empty without it.
  bool factors = false;                // fitted (factor_iterations > 0)
  std::size_t user_dim = 0;            // length of y_u and q_i
  std::vector<double> item_bias;       // b_i, per item
  std::vector<double> item_factors;    // q_i, item-major: item_factors[i * user_dim + j]
  double loglik_attractiveness = 0.0;  // mean (weighted) log-likelihood per row, EM model
  double loglik_factors = 0.0;         // the same for the factor model

  // b_i + y' q_i of item index i (into items) for user features y; the
  // attractiveness-only logit logit(a_i) without factors.
  double predicted_logit(std::size_t i, const Eigen::VectorXd& y) const;
};

// Accumulates logged slots. Memory: O(items x slots + rankings x user_dim +
// rows), not the contexts: the factor fit keeps one small record per row and
// the user features once per run of rows with the same user.
class CalibrationData {
 public:
  explicit CalibrationData(std::int64_t popularity_row = -1);

  // Adds one logged slot. Throws std::invalid_argument naming the event id
  // for a probability outside (0, 1] or not finite, a non-finite reward, a
  // slot >= ChoiceModel::kMaxSlots, an action outside the context, a
  // context without row popularity_row (when set), or user features of
  // another length than the first row's or not finite.
  void add(const Interaction& interaction);

  // Fits the model of the header comment. Throws std::invalid_argument for
  // no rows, no ranking with a slot beyond 0, or options out of range.
  CalibrationResult fit(const CalibrationOptions& options) const;

  std::size_t rows() const { return rows_; }

 private:
  struct Cell {
    double n = 0.0, clicks = 0.0;  // unweighted rows and clicks
    double w = 0.0, wc = 0.0;      // sum of weights, of weights of clicked rows
    double w2 = 0.0, w2c = 0.0;    // sums of squared weights
  };
  struct Row {                     // one logged slot, for the factor fit
    std::uint32_t item = 0, user = 0;
    std::uint8_t slot = 0;
    bool click = false;
    double w = 0.0;                // 1 / p
  };
  std::size_t item_index(ItemId item);
  void fit_factors(const std::vector<double>& theta, double z, const CalibrationOptions& options,
                   CalibrationResult& r) const;

  std::int64_t popularity_row_;
  std::vector<ItemId> items_;
  std::unordered_map<ItemId, std::size_t> index_;
  std::vector<std::vector<Cell>> cells_;     // [item][slot]
  std::vector<double> log_popularity_;       // per item, NaN until seen
  std::unordered_map<std::string, std::size_t> ranking_clicks_;
  std::unordered_map<std::size_t, std::size_t> candidate_counts_;  // K -> requests (slot 0 rows)
  std::unordered_set<ItemId> offered_;       // every candidate of a slot 0 row
  std::size_t rows_ = 0;
  std::size_t slots_ = 0;
  bool all_certain_ = true;
  std::vector<Row> log_rows_;
  std::vector<double> users_;      // user features, user-major, user_dim_ each
  std::size_t user_dim_ = 0;
  std::size_t n_users_ = 0;
};

}  // namespace recloop

// SPDX-License-Identifier: Apache-2.0
// Linear Thompson sampling (Agrawal & Goyal 2013, "Thompson sampling for
// contextual bandits with linear payoffs", ICML, Alg. 1). A Bayesian ridge
// regression of the reward on x = joint_features(context, a), with
//   B = ridge I + sum x x',   f = sum r x,   mu_hat = B^-1 f,
// and posterior N(mu_hat, v^2 B^-1). Each request draws mu~ from the posterior
// and plays argmax_a x_a' mu~. Two models, chosen by `model`:
//
//   disjoint  one regression per catalogue item, as in LinUCB's disjoint
//             models (ridge.h), so mu~_a is drawn independently per item.
//             Candidate a's score x_a' mu~_a is then exactly
//             N(x_a' mu_hat_a, v^2 x_a' B_a^-1 x_a), independent across
//             candidates, and is drawn as that one-dimensional normal: the
//             same law as x_a'(mu_hat_a + v L_a z) with L_a L_a' = B_a^-1,
//             for O(1) per draw instead of O(d^2). The mean and the width
//             x'B^-1x come from DisjointRidge::predict(), LinUCB's kernel.
//             Candidates are assumed to be distinct items (a repeated item
//             would be drawn twice, independently).
//   shared    one regression for all items (the paper's setting): items
//             differ only through their features, so a new item is scored
//             by what was learnt from the others. The scores of one draw are
//             correlated through the shared mu~, which is drawn in full with
//             the Cholesky factor L of B (B = L L', kept up to date by a
//             rank-one update per observation): mu~ = mu_hat + v L'^-1 z,
//             z ~ N(0, I), since Cov(L'^-1 z) = (L L')^-1 = B^-1.
//
// v scales the posterior spread. The paper's analysis takes
// v = R sqrt(24 d ln(1/delta) / epsilon) for R-sub-Gaussian noise, which
// explores far more than needed in practice; v = R (the noise sd) is the exact
// Bayesian posterior for a N(0, R^2/ridge I) prior. v = 0 plays the ridge
// estimate greedily (ties split).
//
// The pmf is the Monte Carlo estimate of monte_carlo_pmf.h. update()
// regresses interaction.reward (finite, checked) on the chosen candidate's
// features and ignores interaction.probability; learn() (RegressionLearner)
// regresses a target on every candidate, as one model version.
//
// Cost: probabilities() O(K d^2 + draws K) disjoint, O(K d + draws (d^2 + K d))
// shared; update() O(d^2). Per-item state (disjoint) is allocated lazily.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include <Eigen/Dense>

#include "core/config.h"
#include "core/types.h"
#include "policies/monte_carlo_pmf.h"
#include "policies/policy.h"
#include "policies/regression_learner.h"
#include "policies/ridge.h"

namespace recloop {

class ModelReader;

class LinearThompson final : public Policy, public RegressionLearner {
 public:
  enum class Model { kDisjoint, kShared };

  struct Config {
    double v = 1.0;      // scale of the posterior spread, finite and >= 0 (v of Alg. 1)
    double ridge = 1.0;  // prior precision of the regression(s), finite and > 0 (1 in the paper)
    Model model = Model::kDisjoint;        // one regression per item, or one shared
    int draws = kDefaultMonteCarloDraws;   // Monte Carlo draws per pmf, [1, 1e6]
    std::uint64_t seed = 0;                // seed of the posterior draws
    bool operator==(const Config&) const = default;
    // Reads v, ridge, model, draws and seed (absent keys keep the defaults
    // above). Throws ConfigError naming the key, its value and range.
    static Config from(ConfigSection& section);
  };
  static constexpr std::string_view kName = "linear_ts";

  // Throws std::invalid_argument, with the value, unless v >= 0, ridge > 0
  // (both finite), draws is in [1, 1e6] and feature_dim >= 1.
  LinearThompson(const Config& config, int feature_dim);

  // Requires context.feature_dim() == feature_dim() (checked).
  std::vector<double> probabilities(const Context& context) const override;
  void update(const Interaction& interaction) override;
  std::string_view name() const override { return kName; }
  std::uint64_t model_version() const override { return version_; }
  std::unique_ptr<Policy> clone() const override;
  // Writes the config, the model version and the regression state: the
  // per-item ridge state (disjoint) or L, f and mu_hat (shared), bit for bit.
  void save(ModelWriter& out) const override;
  // Reads what save() wrote; throws recloop::Error on truncated or inconsistent data.
  static std::unique_ptr<Policy> load(ModelReader& in);

  // RegressionLearner: the posterior means x' mu_hat.
  void predict_rewards(const Context& context, std::span<double> out) const override;
  void learn(const Context& context, std::span<const double> targets) override;

  const Config& config() const { return config_; }
  int feature_dim() const { return disjoint_.dim(); }
  // Disjoint model: the per-item regressions (empty in the shared model).
  const DisjointRidge& disjoint_model() const { return disjoint_; }
  // Shared model: mu_hat and the lower Cholesky factor L of B.
  const Eigen::VectorXd& shared_mean() const { return mu_hat_; }
  const Eigen::MatrixXd& shared_cholesky() const { return chol_; }

 private:
  void add(const Context& context, ActionId action, double reward);
  void check_dim(const Context& context) const;

  Config config_;
  DisjointRidge disjoint_;
  Eigen::MatrixXd chol_;   // shared: lower triangular L, B = L L'
  Eigen::VectorXd f_;      // shared: sum r x
  Eigen::VectorXd mu_hat_; // shared: B^-1 f
  std::uint64_t version_ = 0;
};

}  // namespace recloop

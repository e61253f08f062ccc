// SPDX-License-Identifier: Apache-2.0
#include "policies/linear_thompson.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/check.h"
#include "core/codec.h"
#include "core/error.h"
#include "core/model_io.h"
#include "core/rng.h"

namespace recloop {
namespace {

// Joint draws per block in the shared model: the scores of a block are one
// matrix product, small enough (K x 64) to stay in cache.
constexpr int kDrawBlock = 64;

const LinearThompson::Config& validated(const LinearThompson::Config& config, int feature_dim) {
  if (!(std::isfinite(config.v) && config.v >= 0.0)) {
    throw std::invalid_argument("LinearThompson: v = " + std::to_string(config.v) +
                                ", need >= 0");
  }
  if (!(std::isfinite(config.ridge) && config.ridge > 0.0)) {
    throw std::invalid_argument("LinearThompson: ridge = " + std::to_string(config.ridge) +
                                ", need > 0");
  }
  validate_monte_carlo_draws("LinearThompson", config.draws);
  if (feature_dim < 1) {
    throw std::invalid_argument("LinearThompson: feature_dim = " + std::to_string(feature_dim) +
                                ", need >= 1");
  }
  return config;
}

// B + x x' = L~ L~' from B = L L' in O(d^2), L lower triangular with a
// positive diagonal: the classical rank-one update by Givens-like rotations
// (Gill, Golub, Murray & Saunders 1974, "Methods for modifying matrix
// factorizations", Math. Comp. 28, sec. 3). `w` is a copy of x, consumed.
void cholesky_rank_one_update(Eigen::MatrixXd& L, Eigen::VectorXd w) {
  const Eigen::Index d = L.rows();
  for (Eigen::Index k = 0; k < d; ++k) {
    const double diagonal = L(k, k);
    const double r = std::sqrt(diagonal * diagonal + w(k) * w(k));
    const double c = r / diagonal;
    const double s = w(k) / diagonal;
    L(k, k) = r;
    for (Eigen::Index i = k + 1; i < d; ++i) {
      L(i, k) = (L(i, k) + s * w(i)) / c;
      w(i) = c * w(i) - s * L(i, k);
    }
  }
}

}  // namespace

LinearThompson::Config LinearThompson::Config::from(ConfigSection& section) {
  const Config defaults;
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  Config config;
  config.v = section.get_double("v", defaults.v, 0.0, kInfinity,
                                "scale of the posterior spread (0: greedy on the ridge estimate)");
  config.ridge = section.get_double("ridge", defaults.ridge, 0.0, kInfinity,
                                    "prior precision of the ridge regression(s)", true);
  const std::string model = section.get_choice(
      "model", "disjoint", {"disjoint", "shared"},
      "one regression per item (disjoint) or one for all items (shared)");
  config.model = model == "disjoint" ? Model::kDisjoint : Model::kShared;
  config.draws = read_monte_carlo_draws(section, defaults.draws);
  config.seed = read_monte_carlo_seed(section, defaults.seed);
  return config;
}

LinearThompson::LinearThompson(const Config& config, int feature_dim)
    : config_(validated(config, feature_dim)), disjoint_(feature_dim, config.ridge) {
  if (config_.model == Model::kShared) {
    // Alg. 1 initialisation: B = I (ridge I here), f = 0, mu_hat = 0.
    chol_ = std::sqrt(config_.ridge) * Eigen::MatrixXd::Identity(feature_dim, feature_dim);
    f_ = Eigen::VectorXd::Zero(feature_dim);
    mu_hat_ = Eigen::VectorXd::Zero(feature_dim);
  }
}

void LinearThompson::check_dim(const Context& context) const {
  RECLOOP_CHECK(context.feature_dim() == feature_dim(),
                "linear_ts: context has feature_dim " + std::to_string(context.feature_dim()) +
                    ", policy expects " + std::to_string(feature_dim()));
  RECLOOP_CHECK(static_cast<std::size_t>(context.actions.cols()) == context.size(),
                "context has a different number of feature columns and items");
}

std::vector<double> LinearThompson::probabilities(const Context& context) const {
  RECLOOP_CHECK(context.size() > 0, "a context needs at least one candidate");
  check_dim(context);
  const std::size_t k = context.size();
  const std::uint64_t seed = monte_carlo_seed(config_.seed, version_, context.items);
  if (config_.model == Model::kDisjoint) {
    std::vector<DisjointRidge::Prediction> predictions(k);
    disjoint_.predict(context, predictions);
    std::vector<double> means(k);
    std::vector<double> sds(k);
    for (std::size_t a = 0; a < k; ++a) {
      // Alg. 1 line 3 per item: mu~_a ~ N(mu_hat_a, v^2 B_a^-1), so
      // x' mu~_a ~ N(x' mu_hat_a, v^2 x'B_a^-1 x) (see the header).
      means[a] = predictions[a].mean;
      sds[a] = config_.v * predictions[a].width;
    }
    return independent_normal_pmf(means, sds, config_.draws, seed);
  }

  const int d = feature_dim();
  Eigen::MatrixXd X(static_cast<Eigen::Index>(k), d);  // one row per candidate
  Eigen::VectorXd x(d);
  for (std::size_t a = 0; a < k; ++a) {
    joint_features(context, static_cast<ActionId>(a), x);
    X.row(static_cast<Eigen::Index>(a)) = x.transpose();
  }
  const Eigen::VectorXd means = X * mu_hat_;
  ArgmaxCounter counter(k);
  if (config_.v == 0.0) {
    counter.add(std::span<const double>(means.data(), k), static_cast<double>(config_.draws));
    return counter.pmf();
  }
  NormalStream normals(seed);
  Eigen::MatrixXd Z(d, kDrawBlock);
  Eigen::MatrixXd scores(static_cast<Eigen::Index>(k), kDrawBlock);
  for (int start = 0; start < config_.draws; start += kDrawBlock) {
    const int n = std::min(kDrawBlock, config_.draws - start);
    auto z = Z.leftCols(n);
    for (int j = 0; j < n; ++j) {
      for (int i = 0; i < d; ++i) z(i, j) = normals.next();
    }
    // Alg. 1 line 3: mu~ = mu_hat + v L'^-1 z ~ N(mu_hat, v^2 B^-1), for a
    // block of draws at once: solve L' U = Z, then scores = X mu_hat + v X U.
    chol_.triangularView<Eigen::Lower>().transpose().solveInPlace(z);
    auto s = scores.leftCols(n);
    s.noalias() = X * z;
    for (int j = 0; j < n; ++j) {
      s.col(j) = means + config_.v * s.col(j);
      // Alg. 1 line 4: play argmax_a x_a' mu~, counted per draw.
      counter.add(std::span<const double>(s.col(j).data(), k));
    }
  }
  return counter.pmf();
}

void LinearThompson::add(const Context& context, ActionId action, double reward) {
  RECLOOP_CHECK(std::isfinite(reward), "linear_ts: non-finite reward " + std::to_string(reward));
  Eigen::VectorXd x(feature_dim());
  joint_features(context, action, x);
  if (config_.model == Model::kDisjoint) {
    disjoint_.update(context.items[action], x, reward);
    return;
  }
  // Alg. 1 line 6: B += x x' (as an update of its Cholesky factor), f += r x,
  // mu_hat = B^-1 f = L'^-1 L^-1 f.
  cholesky_rank_one_update(chol_, x);
  f_ += reward * x;
  mu_hat_ = chol_.triangularView<Eigen::Lower>().solve(f_);
  chol_.triangularView<Eigen::Lower>().transpose().solveInPlace(mu_hat_);
}

void LinearThompson::update(const Interaction& interaction) {
  const Context& context = interaction.context;
  RECLOOP_CHECK(interaction.action < context.size(), "action outside the context");
  check_dim(context);
  add(context, interaction.action, interaction.reward);
  ++version_;
}

void LinearThompson::predict_rewards(const Context& context, std::span<double> out) const {
  RECLOOP_CHECK(out.size() == context.size(), "linear_ts: one output per candidate");
  check_dim(context);
  if (config_.model == Model::kDisjoint) {
    disjoint_.means(context, out);
    return;
  }
  Eigen::VectorXd x(feature_dim());
  for (std::size_t a = 0; a < context.size(); ++a) {
    joint_features(context, static_cast<ActionId>(a), x);
    out[a] = x.dot(mu_hat_);
  }
}

void LinearThompson::learn(const Context& context, std::span<const double> targets) {
  RECLOOP_CHECK(targets.size() == context.size(), "linear_ts: one target per candidate");
  check_dim(context);
  for (std::size_t a = 0; a < context.size(); ++a) {
    add(context, static_cast<ActionId>(a), targets[a]);
  }
  ++version_;
}

std::unique_ptr<Policy> LinearThompson::clone() const {
  return std::make_unique<LinearThompson>(*this);
}

void LinearThompson::save(ModelWriter& out) const {
  out.put_f64(config_.v);
  out.put_f64(config_.ridge);
  out.put_u64(config_.model == Model::kDisjoint ? 0 : 1);
  out.put_u64(static_cast<std::uint64_t>(config_.draws));
  out.put_u64(config_.seed);
  out.put_u64(version_);
  if (config_.model == Model::kDisjoint) {
    disjoint_.save(out);
    return;
  }
  out.put_matrix(chol_);
  out.put_vector(f_);
  out.put_vector(mu_hat_);
}

std::unique_ptr<Policy> LinearThompson::load(ModelReader& in) {
  Config config;
  config.v = in.get_f64("linear_ts v");
  config.ridge = in.get_f64("linear_ts ridge");
  const std::uint64_t model = in.get_u64("linear_ts model");
  if (model > 1) throw Error("model data: linear_ts model " + std::to_string(model));
  config.model = model == 0 ? Model::kDisjoint : Model::kShared;
  const std::uint64_t draws = in.get_u64("linear_ts draws");
  config.draws = static_cast<int>(std::min<std::uint64_t>(draws, kMaxMonteCarloDraws + 1ULL));
  config.seed = in.get_u64("linear_ts seed");
  const std::uint64_t version = in.get_u64("linear_ts model version");
  const auto make = [&](int dim) {
    try {
      return std::make_unique<LinearThompson>(config, dim);
    } catch (const std::invalid_argument& e) {
      throw Error(std::string("model data: ") + e.what());
    }
  };
  std::unique_ptr<LinearThompson> policy;
  if (config.model == Model::kDisjoint) {
    DisjointRidge ridge = DisjointRidge::load(in, config.ridge, "linear_ts");
    policy = make(ridge.dim());
    policy->disjoint_ = std::move(ridge);
  } else {
    Eigen::MatrixXd chol = in.get_matrix("linear_ts Cholesky factor");
    Eigen::VectorXd f = in.get_vector("linear_ts f");
    Eigen::VectorXd mu_hat = in.get_vector("linear_ts mean");
    const Eigen::Index d = chol.rows();
    if (d < 1 || d > kMaxFeatureDim || chol.cols() != d || f.size() != d || mu_hat.size() != d) {
      throw Error("model data: linear_ts shared state has inconsistent dimensions");
    }
    for (Eigen::Index i = 0; i < d; ++i) {
      if (!(chol(i, i) > 0.0) || !std::isfinite(chol(i, i))) {
        throw Error("model data: linear_ts Cholesky factor is not positive definite");
      }
    }
    if (!chol.allFinite() || !f.allFinite() || !mu_hat.allFinite()) {
      throw Error("model data: linear_ts shared state is not finite");
    }
    policy = make(static_cast<int>(d));
    policy->chol_ = std::move(chol);
    policy->f_ = std::move(f);
    policy->mu_hat_ = std::move(mu_hat);
  }
  policy->version_ = version;
  return policy;
}

}  // namespace recloop

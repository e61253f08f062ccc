// SPDX-License-Identifier: Apache-2.0
#include "policies/logistic_thompson.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include <Eigen/Dense>

#include "core/check.h"
#include "core/codec.h"
#include "core/error.h"
#include "core/model_io.h"
#include "core/rng.h"

namespace recloop {
namespace {

constexpr int kDrawBlock = 64;  // shared model: joint draws scored by one matrix product

const LogisticThompson::Config& validated(const LogisticThompson::Config& config,
                                          int feature_dim) {
  if (!(std::isfinite(config.lambda) && config.lambda > 0.0)) {
    throw std::invalid_argument("LogisticThompson: lambda = " + std::to_string(config.lambda) +
                                ", need > 0");
  }
  if (!(std::isfinite(config.v) && config.v >= 0.0)) {
    throw std::invalid_argument("LogisticThompson: v = " + std::to_string(config.v) +
                                ", need >= 0");
  }
  validate_monte_carlo_draws("LogisticThompson", config.draws);
  if (feature_dim < 1) {
    throw std::invalid_argument("LogisticThompson: feature_dim = " +
                                std::to_string(feature_dim) + ", need >= 1");
  }
  return config;
}

double sigmoid(double s) { return 1.0 / (1.0 + std::exp(-s)); }

// The margin s = w'x of Alg. 3's minimiser for one observation. On the line
// w = m + t diag(q)^-1 x the gradient vanishes where t = r - sigmoid(s), so s
// solves g(s) = s - s0 - c (r - sigmoid(s)) = 0 with s0 = m'x and
// c = x' diag(q)^-1 x >= 0. g is increasing (g' = 1 + c p (1 - p) >= 1), and
// the root lies between s0 and s1 = s0 + c (r - sigmoid(s0)) (g(s0) and g(s1)
// have opposite signs), so Newton's method, falling back to bisection when a
// step leaves the bracket, converges from s0. The iteration is a fixed
// sequence of operations: the same inputs always give the same bits.
double solve_margin(double s0, double c, double r) {
  const double s1 = s0 + c * (r - sigmoid(s0));
  double lo = std::min(s0, s1);
  double hi = std::max(s0, s1);
  double s = s0;
  for (int iteration = 0; iteration < 100 && lo < hi; ++iteration) {
    const double p = sigmoid(s);
    const double g = s - s0 - c * (r - p);
    if (g == 0.0) return s;
    if (g < 0.0) {
      lo = s;
    } else {
      hi = s;
    }
    double next = s - g / (1.0 + c * p * (1.0 - p));
    if (!(next > lo && next < hi)) next = lo + 0.5 * (hi - lo);
    if (std::abs(next - s) <= 1e-14 * (1.0 + std::abs(s))) return next;
    s = next;
  }
  return s;
}

}  // namespace

LogisticThompson::Config LogisticThompson::Config::from(ConfigSection& section) {
  const Config defaults;
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  Config config;
  config.lambda = section.get_double("lambda", defaults.lambda, 0.0, kInfinity,
                                     "prior precision of every weight", true);
  config.v = section.get_double("v", defaults.v, 0.0, kInfinity,
                                "scale of the posterior sd (1: the Laplace posterior)");
  const std::string model = section.get_choice(
      "model", "disjoint", {"disjoint", "shared"},
      "one logistic regression per item (disjoint) or one for all items (shared)");
  config.model = model == "disjoint" ? Model::kDisjoint : Model::kShared;
  config.draws = read_monte_carlo_draws(section, defaults.draws);
  config.seed = read_monte_carlo_seed(section, defaults.seed);
  return config;
}

LogisticThompson::LogisticThompson(const Config& config, int feature_dim)
    : config_(validated(config, feature_dim)), dim_(feature_dim) {
  if (config_.model == Model::kShared) {
    // The one shared regression, at its prior: m = 0, q = lambda (Alg. 3, "Require").
    m_.assign(static_cast<std::size_t>(dim_), 0.0);
    q_.assign(static_cast<std::size_t>(dim_), config_.lambda);
    updates_.push_back(0);
  }
}

std::uint32_t LogisticThompson::slot(ItemId item) const {
  if (config_.model == Model::kShared) return 0;
  const auto it = slots_.find(item);
  return it == slots_.end() ? kNoSlot : it->second;
}

void LogisticThompson::check_dim(const Context& context) const {
  RECLOOP_CHECK(context.feature_dim() == dim_,
                "logistic_ts: context has feature_dim " + std::to_string(context.feature_dim()) +
                    ", policy expects " + std::to_string(dim_));
  RECLOOP_CHECK(static_cast<std::size_t>(context.actions.cols()) == context.size(),
                "context has a different number of feature columns and items");
}

LogisticThompson::Posterior LogisticThompson::posterior(ItemId item) const {
  const std::uint32_t s = slot(item);
  const std::size_t d = static_cast<std::size_t>(dim_);
  if (s == kNoSlot) return {std::vector<double>(d, 0.0), std::vector<double>(d, config_.lambda)};
  const auto first = static_cast<std::ptrdiff_t>(std::size_t{s} * d);
  const auto last = first + static_cast<std::ptrdiff_t>(d);
  return {std::vector<double>(m_.begin() + first, m_.begin() + last),
          std::vector<double>(q_.begin() + first, q_.begin() + last)};
}

std::vector<double> LogisticThompson::click_probabilities(const Context& context) const {
  check_dim(context);
  std::vector<double> p(context.size());
  Eigen::VectorXd x(dim_);
  for (std::size_t a = 0; a < context.size(); ++a) {
    joint_features(context, static_cast<ActionId>(a), x);
    const std::uint32_t s = slot(context.items[a]);
    const double margin =
        s == kNoSlot ? 0.0
                     : x.dot(Eigen::Map<const Eigen::VectorXd>(m_.data() + std::size_t{s} * dim_,
                                                               dim_));
    p[a] = sigmoid(margin);
  }
  return p;
}

std::vector<double> LogisticThompson::probabilities(const Context& context) const {
  RECLOOP_CHECK(context.size() > 0, "a context needs at least one candidate");
  check_dim(context);
  const std::size_t k = context.size();
  const std::uint64_t seed = monte_carlo_seed(config_.seed, version_, context.items);
  Eigen::VectorXd x(dim_);
  if (config_.model == Model::kDisjoint) {
    std::vector<double> means(k);
    std::vector<double> sds(k);
    for (std::size_t a = 0; a < k; ++a) {
      joint_features(context, static_cast<ActionId>(a), x);
      const std::uint32_t s = slot(context.items[a]);
      if (s == kNoSlot) {  // the prior: m = 0, q = lambda
        means[a] = 0.0;
        sds[a] = config_.v * std::sqrt(x.squaredNorm() / config_.lambda);
        continue;
      }
      const Eigen::Map<const Eigen::VectorXd> m(m_.data() + std::size_t{s} * dim_, dim_);
      const Eigen::Map<const Eigen::VectorXd> q(q_.data() + std::size_t{s} * dim_, dim_);
      // x' w~ with w~_i ~ N(m_i, v^2 / q_i) independent: N(x'm, v^2 sum x_i^2 / q_i).
      means[a] = x.dot(m);
      sds[a] = config_.v * std::sqrt((x.array().square() / q.array()).sum());
    }
    return independent_normal_pmf(means, sds, config_.draws, seed);
  }

  Eigen::MatrixXd X(static_cast<Eigen::Index>(k), dim_);
  for (std::size_t a = 0; a < k; ++a) {
    joint_features(context, static_cast<ActionId>(a), x);
    X.row(static_cast<Eigen::Index>(a)) = x.transpose();
  }
  const Eigen::Map<const Eigen::VectorXd> m(m_.data(), dim_);
  const Eigen::Map<const Eigen::VectorXd> q(q_.data(), dim_);
  const Eigen::VectorXd means = X * m;
  ArgmaxCounter counter(k);
  if (config_.v == 0.0) {
    counter.add(std::span<const double>(means.data(), k), static_cast<double>(config_.draws));
    return counter.pmf();
  }
  const Eigen::VectorXd sd = config_.v * q.array().rsqrt().matrix();
  NormalStream normals(seed);
  Eigen::MatrixXd W(dim_, kDrawBlock);
  Eigen::MatrixXd scores(static_cast<Eigen::Index>(k), kDrawBlock);
  for (int start = 0; start < config_.draws; start += kDrawBlock) {
    const int n = std::min(kDrawBlock, config_.draws - start);
    auto w = W.leftCols(n);
    // Chapelle & Li 2011, Alg. 3 posterior: w~_i - m_i ~ N(0, v^2 / q_i).
    for (int j = 0; j < n; ++j) {
      for (int i = 0; i < dim_; ++i) w(i, j) = sd(i) * normals.next();
    }
    auto s = scores.leftCols(n);
    s.noalias() = X * w;
    for (int j = 0; j < n; ++j) {
      s.col(j) += means;
      counter.add(std::span<const double>(s.col(j).data(), k));
    }
  }
  return counter.pmf();
}

void LogisticThompson::update(const Interaction& interaction) {
  const Context& context = interaction.context;
  RECLOOP_CHECK(interaction.action < context.size(), "action outside the context");
  check_dim(context);
  RECLOOP_CHECK(std::isfinite(interaction.reward),
                "logistic_ts: non-finite reward " + std::to_string(interaction.reward));
  const double r = std::clamp(interaction.reward, 0.0, 1.0);
  const std::size_t d = static_cast<std::size_t>(dim_);
  std::uint32_t s = slot(context.items[interaction.action]);
  if (s == kNoSlot) {
    s = static_cast<std::uint32_t>(updates_.size());
    slots_.emplace(context.items[interaction.action], s);
    m_.resize(m_.size() + d, 0.0);
    q_.resize(q_.size() + d, config_.lambda);
    updates_.push_back(0);
  }
  Eigen::VectorXd x(dim_);
  joint_features(context, interaction.action, x);
  Eigen::Map<Eigen::VectorXd> m(m_.data() + std::size_t{s} * d, dim_);
  Eigen::Map<Eigen::VectorXd> q(q_.data() + std::size_t{s} * d, dim_);
  // Alg. 3 with a batch of one: w = argmin of the regularised log loss, on the
  // line w = m + t diag(q)^-1 x (see solve_margin), then m = w.
  const Eigen::VectorXd scaled = x.array() / q.array();  // diag(q)^-1 x
  const double margin = solve_margin(x.dot(m), x.dot(scaled), r);
  const double p = sigmoid(margin);
  m += (r - p) * scaled;
  // Alg. 3: q_i += x_i^2 p (1 - p), p = sigmoid(w'x) at the new w.
  q.array() += x.array().square() * (p * (1.0 - p));
  ++updates_[s];
  ++version_;
}

std::unique_ptr<Policy> LogisticThompson::clone() const {
  return std::make_unique<LogisticThompson>(*this);
}

void LogisticThompson::save(ModelWriter& out) const {
  out.put_f64(config_.lambda);
  out.put_f64(config_.v);
  out.put_u64(config_.model == Model::kDisjoint ? 0 : 1);
  out.put_u64(static_cast<std::uint64_t>(config_.draws));
  out.put_u64(config_.seed);
  out.put_u64(static_cast<std::uint64_t>(dim_));
  out.put_u64(version_);
  // Items in slot order (the order of their first update); empty when shared.
  std::vector<std::uint64_t> items(config_.model == Model::kDisjoint ? updates_.size() : 0);
  for (const auto& [item, s] : slots_) items[s] = item;
  out.put_u64s(items);
  out.put_doubles(m_);
  out.put_doubles(q_);
  out.put_u64s(updates_);
}

std::unique_ptr<Policy> LogisticThompson::load(ModelReader& in) {
  Config config;
  config.lambda = in.get_f64("logistic_ts lambda");
  config.v = in.get_f64("logistic_ts v");
  const std::uint64_t model = in.get_u64("logistic_ts model");
  if (model > 1) throw Error("model data: logistic_ts model " + std::to_string(model));
  config.model = model == 0 ? Model::kDisjoint : Model::kShared;
  const std::uint64_t draws = in.get_u64("logistic_ts draws");
  config.draws = static_cast<int>(std::min<std::uint64_t>(draws, kMaxMonteCarloDraws + 1ULL));
  config.seed = in.get_u64("logistic_ts seed");
  const std::uint64_t dim = in.get_u64("logistic_ts feature_dim");
  if (dim < 1 || dim > kMaxFeatureDim) {
    throw Error("model data: logistic_ts feature_dim = " + std::to_string(dim));
  }
  const std::uint64_t version = in.get_u64("logistic_ts model version");
  std::unique_ptr<LogisticThompson> policy;
  try {
    policy = std::make_unique<LogisticThompson>(config, static_cast<int>(dim));
  } catch (const std::invalid_argument& e) {
    throw Error(std::string("model data: ") + e.what());
  }
  const auto items = in.get_u64s("logistic_ts items");
  auto m = in.get_doubles("logistic_ts means");
  auto q = in.get_doubles("logistic_ts precisions");
  auto updates = in.get_u64s("logistic_ts update counts");
  const std::size_t n = config.model == Model::kDisjoint ? items.size() : 1;
  if ((config.model == Model::kShared && !items.empty()) || updates.size() != n ||
      m.size() != n * dim || q.size() != n * dim) {
    throw Error("model data: logistic_ts state has inconsistent sizes");
  }
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (!std::isfinite(m[i]) || !(q[i] > 0.0) || !std::isfinite(q[i])) {
      throw Error("model data: logistic_ts has a non-finite mean or a non-positive precision");
    }
  }
  policy->slots_.clear();
  for (std::size_t s = 0; s < items.size(); ++s) {
    if (!policy->slots_.try_emplace(items[s], static_cast<std::uint32_t>(s)).second) {
      throw Error("model data: logistic_ts item " + std::to_string(items[s]) + " appears twice");
    }
  }
  policy->m_ = std::move(m);
  policy->q_ = std::move(q);
  policy->updates_ = std::move(updates);
  policy->version_ = version;
  return policy;
}

}  // namespace recloop

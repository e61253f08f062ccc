// SPDX-License-Identifier: Apache-2.0
#include "policies/lin_ucb_hybrid.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/check.h"
#include "core/codec.h"
#include "core/error.h"
#include "core/model_io.h"
#include "policies/exploration.h"

namespace recloop {
namespace {

const LinUcbHybrid::Config& validated(const LinUcbHybrid::Config& config, int feature_dim) {
  if (!(std::isfinite(config.alpha) && config.alpha >= 0.0)) {
    throw std::invalid_argument("LinUcbHybrid: alpha = " + std::to_string(config.alpha) +
                                ", need >= 0");
  }
  if (!(std::isfinite(config.ridge) && config.ridge > 0.0)) {
    throw std::invalid_argument("LinUcbHybrid: ridge = " + std::to_string(config.ridge) +
                                ", need > 0");
  }
  if (feature_dim < 1) {
    throw std::invalid_argument("LinUcbHybrid: feature_dim = " + std::to_string(feature_dim) +
                                ", need >= 1");
  }
  if (config.shared_features == LinUcbHybrid::SharedFeatures::kOuter) {
    if (config.user_dim < 1 || config.user_dim > feature_dim - 1) {
      throw std::invalid_argument("LinUcbHybrid: user_dim = " + std::to_string(config.user_dim) +
                                  ", need [1, " + std::to_string(feature_dim - 1) +
                                  "] for outer shared features");
    }
  } else if (config.user_dim != 0) {
    throw std::invalid_argument("LinUcbHybrid: user_dim = " + std::to_string(config.user_dim) +
                                ", need 0: it is only used with outer shared features");
  }
  return config;
}

int shared_dim_of(const LinUcbHybrid::Config& config, int feature_dim) {
  if (config.shared_features == LinUcbHybrid::SharedFeatures::kJoint) return feature_dim;
  return config.user_dim * (feature_dim - config.user_dim);
}

// y = M x for the arm's A^-1 (symmetric), then (A + x x')^-1 by Sherman &
// Morrison 1950: A^-1 - (A^-1 x)(A^-1 x)' / (1 + x'A^-1 x).
void sherman_morrison(Eigen::MatrixXd& A_inv, const Eigen::VectorXd& x) {
  const Eigen::VectorXd k = A_inv * x;
  A_inv.noalias() -= (k * k.transpose()) / (1.0 + x.dot(k));
}

}  // namespace

LinUcbHybrid::Config LinUcbHybrid::Config::from(ConfigSection& section) {
  const Config defaults;
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  Config config;
  config.alpha = section.get_double("alpha", defaults.alpha, 0.0, kInfinity,
                                    "width of the confidence bonus");
  config.ridge = section.get_double("ridge", defaults.ridge, 0.0, kInfinity,
                                    "prior precision of the shared and every per-item model", true);
  const std::string shared = section.get_choice(
      "shared_features", "joint", {"joint", "outer"},
      "shared features z: the joint features, or the outer product user x item");
  config.shared_features = shared == "joint" ? SharedFeatures::kJoint : SharedFeatures::kOuter;
  config.user_dim = static_cast<int>(
      section.get_int("user_dim", defaults.user_dim, 0, kMaxFeatureDim,
                      "length of the user features, needed by outer shared features (else 0)"));
  // The two keys constrain each other; the upper bound feature_dim - 1 is
  // checked by the constructor, which knows feature_dim.
  if (config.shared_features == SharedFeatures::kOuter && config.user_dim == 0) {
    throw ConfigError(section.where("shared_features") +
                      ": outer shared features need user_dim >= 1 (the length of the user "
                      "features)");
  }
  if (config.shared_features == SharedFeatures::kJoint && config.user_dim != 0) {
    throw ConfigError(section.where("user_dim") +
                      ": only used with shared_features = outer, need 0 here");
  }
  return config;
}

LinUcbHybrid::LinUcbHybrid(const Config& config, int feature_dim)
    : config_(validated(config, feature_dim)),
      dim_(feature_dim),
      shared_dim_(shared_dim_of(config, feature_dim)) {
  // Alg. 2 lines 1-2: A_0 = I_k (ridge I_k here), b_0 = 0_k.
  A0_ = config_.ridge * Eigen::MatrixXd::Identity(shared_dim_, shared_dim_);
  b0_ = Eigen::VectorXd::Zero(shared_dim_);
  refresh_shared();
}

void LinUcbHybrid::refresh_shared() {
  // Alg. 2 line 5: beta_hat = A_0^-1 b_0. A_0 stays positive definite: it is
  // ridge I plus, per item, the Schur complement sum zz' - B'A^-1 B >= 0.
  const Eigen::LLT<Eigen::MatrixXd> llt(A0_);
  RECLOOP_CHECK(llt.info() == Eigen::Success, "lin_ucb_hybrid: A_0 is not positive definite");
  A0_inv_ = llt.solve(Eigen::MatrixXd::Identity(shared_dim_, shared_dim_));
  beta_hat_ = A0_inv_ * b0_;
}

const LinUcbHybrid::Arm* LinUcbHybrid::arm(ItemId item) const {
  const auto it = arms_.find(item);
  return it == arms_.end() ? nullptr : &it->second;
}

void LinUcbHybrid::check_context(const Context& context) const {
  RECLOOP_CHECK(context.feature_dim() == dim_,
                "lin_ucb_hybrid: context has feature_dim " +
                    std::to_string(context.feature_dim()) + ", policy expects " +
                    std::to_string(dim_));
  RECLOOP_CHECK(static_cast<std::size_t>(context.actions.cols()) == context.size(),
                "context has a different number of feature columns and items");
  RECLOOP_CHECK(config_.shared_features == SharedFeatures::kJoint ||
                    context.user.size() == config_.user_dim,
                "lin_ucb_hybrid: context has " + std::to_string(context.user.size()) +
                    " user features, policy expects user_dim = " +
                    std::to_string(config_.user_dim));
}

void LinUcbHybrid::shared_features(const Context& context, const Eigen::VectorXd& x,
                                   Eigen::VectorXd& z) const {
  if (config_.shared_features == SharedFeatures::kJoint) {
    z = x;
    return;
  }
  // vec(user item'): z[i + user_dim j] = user_i item_j.
  const int u = config_.user_dim;
  const int m = dim_ - u;
  z.resize(shared_dim_);
  for (int j = 0; j < m; ++j) z.segment(j * u, u) = x[u + j] * context.user;
}

std::vector<double> LinUcbHybrid::scores(const Context& context) const {
  RECLOOP_CHECK(context.size() > 0, "a context needs at least one candidate");
  check_context(context);
  std::vector<double> ucb(context.size());
  Eigen::VectorXd x(dim_);
  Eigen::VectorXd z(shared_dim_);
  Eigen::VectorXd y(dim_);
  Eigen::VectorXd w(shared_dim_);
  Eigen::VectorXd A0_inv_z(shared_dim_);
  for (std::size_t a = 0; a < context.size(); ++a) {
    joint_features(context, static_cast<ActionId>(a), x);
    shared_features(context, x, z);
    double mean = 0.0;
    double s = 0.0;
    if (const Arm* state = arm(context.items[a])) {
      // Alg. 2 lines 12-14 rearranged with y = A_a^-1 x and w = B_a' y:
      //   x' theta_hat_a = x'A_a^-1 (b_a - B_a beta_hat) = y'b_a - w'beta_hat,
      //   s_a = z'A0^-1 z - 2 z'A0^-1 w + x'y + w'A0^-1 w = (z - w)'A0^-1 (z - w) + x'y.
      y.noalias() = state->A_inv * x;
      w.noalias() = state->B.transpose() * y;
      z -= w;
      mean = z.dot(beta_hat_) + y.dot(state->b);
      A0_inv_z.noalias() = A0_inv_ * z;
      s = z.dot(A0_inv_z) + x.dot(y);
    } else {
      // A new item (lines 8-10): A_a^-1 = I / ridge, B_a = 0, b_a = 0.
      mean = z.dot(beta_hat_);
      A0_inv_z.noalias() = A0_inv_ * z;
      s = z.dot(A0_inv_z) + x.squaredNorm() / config_.ridge;
    }
    // Line 14. Rounding can push s of a near-null direction a hair below zero.
    ucb[a] = mean + config_.alpha * std::sqrt(std::max(0.0, s));
  }
  return ucb;
}

std::vector<double> LinUcbHybrid::probabilities(const Context& context) const {
  // Alg. 2 line 16: a_t = argmax p_{t,a}; ties share the mass equally.
  return epsilon_greedy_pmf(scores(context), 0.0);
}

void LinUcbHybrid::update(const Interaction& interaction) {
  const Context& context = interaction.context;
  RECLOOP_CHECK(interaction.action < context.size(), "action outside the context");
  check_context(context);
  RECLOOP_CHECK(std::isfinite(interaction.reward),
                "lin_ucb_hybrid: non-finite reward " + std::to_string(interaction.reward));
  const double r = interaction.reward;
  Eigen::VectorXd x(dim_);
  Eigen::VectorXd z(shared_dim_);
  joint_features(context, interaction.action, x);
  shared_features(context, x, z);
  auto [it, inserted] = arms_.try_emplace(context.items[interaction.action]);
  Arm& a = it->second;
  if (inserted) {
    // Lines 8-10: A_a = I_d (ridge I_d here), B_a = 0_{d x k}, b_a = 0_d.
    a.A_inv = Eigen::MatrixXd::Identity(dim_, dim_) / config_.ridge;
    a.B = Eigen::MatrixXd::Zero(dim_, shared_dim_);
    a.b = Eigen::VectorXd::Zero(dim_);
  }
  // Lines 17-18: A_0 += B_a'A_a^-1 B_a, b_0 += B_a'A_a^-1 b_a (before the item's update).
  Eigen::MatrixXd A_inv_B = a.A_inv * a.B;
  A0_.noalias() += a.B.transpose() * A_inv_B;
  b0_.noalias() += A_inv_B.transpose() * a.b;
  // Lines 19-21: A_a += x x' (Sherman-Morrison on A_a^-1), B_a += x z', b_a += r x.
  sherman_morrison(a.A_inv, x);
  a.B.noalias() += x * z.transpose();
  a.b += r * x;
  // Lines 22-23: A_0 += z z' - B_a'A_a^-1 B_a, b_0 += r z - B_a'A_a^-1 b_a (after it).
  A_inv_B.noalias() = a.A_inv * a.B;
  A0_.noalias() += z * z.transpose();
  A0_.noalias() -= a.B.transpose() * A_inv_B;
  b0_ += r * z;
  b0_.noalias() -= A_inv_B.transpose() * a.b;
  ++a.updates;
  refresh_shared();
  ++version_;
}

std::unique_ptr<Policy> LinUcbHybrid::clone() const { return std::make_unique<LinUcbHybrid>(*this); }

void LinUcbHybrid::save(ModelWriter& out) const {
  out.put_f64(config_.alpha);
  out.put_f64(config_.ridge);
  out.put_u64(config_.shared_features == SharedFeatures::kJoint ? 0 : 1);
  out.put_u64(static_cast<std::uint64_t>(config_.user_dim));
  out.put_u64(static_cast<std::uint64_t>(dim_));
  out.put_u64(version_);
  out.put_matrix(A0_);
  out.put_vector(b0_);
  std::vector<std::uint64_t> items;
  items.reserve(arms_.size());
  for (const auto& entry : arms_) items.push_back(entry.first);
  std::sort(items.begin(), items.end());
  out.put_u64s(items);
  for (const ItemId item : items) {
    const Arm& a = arms_.at(item);
    out.put_matrix(a.A_inv);
    out.put_matrix(a.B);
    out.put_vector(a.b);
    out.put_u64(a.updates);
  }
}

std::unique_ptr<Policy> LinUcbHybrid::load(ModelReader& in) {
  Config config;
  config.alpha = in.get_f64("lin_ucb_hybrid alpha");
  config.ridge = in.get_f64("lin_ucb_hybrid ridge");
  const std::uint64_t shared = in.get_u64("lin_ucb_hybrid shared_features");
  if (shared > 1) throw Error("model data: lin_ucb_hybrid shared_features " + std::to_string(shared));
  config.shared_features = shared == 0 ? SharedFeatures::kJoint : SharedFeatures::kOuter;
  const std::uint64_t user_dim = in.get_u64("lin_ucb_hybrid user_dim");
  const std::uint64_t dim = in.get_u64("lin_ucb_hybrid feature_dim");
  if (dim < 1 || dim > kMaxFeatureDim || user_dim > kMaxFeatureDim) {
    throw Error("model data: lin_ucb_hybrid feature_dim = " + std::to_string(dim) +
                ", user_dim = " + std::to_string(user_dim));
  }
  config.user_dim = static_cast<int>(user_dim);
  const std::uint64_t version = in.get_u64("lin_ucb_hybrid model version");
  std::unique_ptr<LinUcbHybrid> policy;
  try {
    policy = std::make_unique<LinUcbHybrid>(config, static_cast<int>(dim));
  } catch (const std::invalid_argument& e) {
    throw Error(std::string("model data: ") + e.what());
  }
  const Eigen::Index d = policy->dim_;
  const Eigen::Index k = policy->shared_dim_;
  const auto expect = [](bool ok, const std::string& what) {
    if (!ok) throw Error("model data: lin_ucb_hybrid " + what + " has the wrong size or is not finite");
  };
  Eigen::MatrixXd A0 = in.get_matrix("lin_ucb_hybrid A_0");
  Eigen::VectorXd b0 = in.get_vector("lin_ucb_hybrid b_0");
  expect(A0.rows() == k && A0.cols() == k && A0.allFinite(), "A_0");
  expect(b0.size() == k && b0.allFinite(), "b_0");
  const auto items = in.get_u64s("lin_ucb_hybrid items");
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0 && items[i] <= items[i - 1]) {
      throw Error("model data: lin_ucb_hybrid items are not in increasing order");
    }
    Arm a;
    a.A_inv = in.get_matrix("lin_ucb_hybrid A_a^-1");
    a.B = in.get_matrix("lin_ucb_hybrid B_a");
    a.b = in.get_vector("lin_ucb_hybrid b_a");
    a.updates = in.get_u64("lin_ucb_hybrid item update count");
    expect(a.A_inv.rows() == d && a.A_inv.cols() == d && a.A_inv.allFinite(), "A_a^-1");
    expect(a.B.rows() == d && a.B.cols() == k && a.B.allFinite(), "B_a");
    expect(a.b.size() == d && a.b.allFinite(), "b_a");
    policy->arms_.emplace(items[i], std::move(a));
  }
  policy->A0_ = std::move(A0);
  policy->b0_ = std::move(b0);
  const Eigen::LLT<Eigen::MatrixXd> llt(policy->A0_);
  if (llt.info() != Eigen::Success) {
    throw Error("model data: lin_ucb_hybrid A_0 is not positive definite");
  }
  policy->refresh_shared();
  policy->version_ = version;
  return policy;
}

}  // namespace recloop

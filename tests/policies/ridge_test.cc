// SPDX-License-Identifier: Apache-2.0
#include "policies/ridge.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>
#include <stdexcept>

#include "core/rng.h"
#include "core/sampling.h"

using namespace recloop;

namespace {

Eigen::VectorXd random_vector(Rng& rng, int dim) {
  Eigen::VectorXd x(dim);
  for (auto& v : x) v = standard_normal(rng);
  return x;
}

// Relative Frobenius error of `actual` against `expected`.
double relative_error(const Eigen::MatrixXd& actual, const Eigen::MatrixXd& expected) {
  return (actual - expected).norm() / expected.norm();
}

}  // namespace

TEST_CASE("the Sherman-Morrison inverse matches a direct inverse after many updates",
          "[policies]") {
  constexpr int kDim = 8;
  constexpr double kRidge = 0.5;
  Rng rng(11);
  DisjointRidge model(kDim, kRidge);
  // A = ridge I + sum x x', accumulated independently of the model.
  Eigen::MatrixXd gram = kRidge * Eigen::MatrixXd::Identity(kDim, kDim);
  Eigen::VectorXd b = Eigen::VectorXd::Zero(kDim);
  for (int t = 0; t < 2000; ++t) {
    const Eigen::VectorXd x = random_vector(rng, kDim);
    const double reward = 0.5 * x[0] - x[3] + 0.1 * standard_normal(rng);
    model.update(7, x, reward);
    gram += x * x.transpose();
    b += reward * x;
  }
  const auto arm = model.state(7);
  REQUIRE(arm.has_value());
  REQUIRE(arm->updates == 2000);
  // The condition number of A stays modest (well-spread x), so a backward-stable
  // inverse is good to ~1e-14; 1e-9 leaves room for the 2000 rank-1 steps.
  REQUIRE(relative_error(arm->A_inv, gram.inverse()) < 1e-9);
  REQUIRE(relative_error(arm->b, b) < 1e-12);
  const Eigen::VectorXd theta = gram.ldlt().solve(b);
  REQUIRE(relative_error(arm->theta, theta) < 1e-9);
}

TEST_CASE("predictions are x'theta and sqrt(x'A^-1x) of the item's own data", "[policies]") {
  // Dimensions below, at and across the width computation's blocks of four columns.
  for (int dim : {1, 3, 4, 11, 32}) {
    const double ridge = 2.0;
    Rng rng(5 + static_cast<std::uint64_t>(dim));
    DisjointRidge model(dim, ridge);
    Eigen::MatrixXd gram = ridge * Eigen::MatrixXd::Identity(dim, dim);
    Eigen::VectorXd b = Eigen::VectorXd::Zero(dim);
    for (int t = 0; t < 3 * dim; ++t) {
      const Eigen::VectorXd x = random_vector(rng, dim);
      const double reward = standard_normal(rng);
      model.update(100, x, reward);                        // the item under test
      model.update(200, random_vector(rng, dim), 5.0);     // another item must not interfere
      gram += x * x.transpose();
      b += reward * x;
    }
    const Eigen::MatrixXd gram_inv = gram.inverse();
    for (int i = 0; i < 10; ++i) {
      const Eigen::VectorXd x = random_vector(rng, dim);
      const auto prediction = model.predict(100, x);
      REQUIRE(prediction.mean == Approx(x.dot(gram_inv * b)).epsilon(1e-9));
      REQUIRE(prediction.width == Approx(std::sqrt(x.dot(gram_inv * x))).epsilon(1e-9));
    }
  }
}

TEST_CASE("batch predictions over a context equal one-at-a-time predictions", "[policies]") {
  Rng rng(6);
  DisjointRidge model(5, 1.0);
  for (int t = 0; t < 50; ++t) {
    model.update(static_cast<ItemId>(t % 3), random_vector(rng, 5), standard_normal(rng));
  }
  Context context;
  context.user = random_vector(rng, 2);
  context.actions.resize(3, 4);
  for (auto& v : context.actions.reshaped()) v = standard_normal(rng);
  context.items = {2, 9, 0, 1};  // item 9 has no state: the prior answers
  std::vector<DisjointRidge::Prediction> predictions(4);
  std::vector<double> means(4);
  model.predict(context, predictions);
  model.means(context, means);
  Eigen::VectorXd x(5);
  for (ActionId a = 0; a < 4; ++a) {
    joint_features(context, a, x);
    const auto single = model.predict(context.items[a], x);
    REQUIRE(predictions[a].mean == Approx(single.mean).epsilon(1e-12));
    REQUIRE(predictions[a].width == single.width);
    REQUIRE(means[a] == Approx(single.mean).epsilon(1e-12));
  }
  REQUIRE(means[1] == 0.0);
}

TEST_CASE("an item never updated holds no state and predicts with the prior", "[policies]") {
  constexpr double kRidge = 4.0;
  DisjointRidge model(3, kRidge);
  Eigen::Vector3d x(1.0, 2.0, 2.0);  // |x|^2 = 9
  model.update(1, x, 1.0);
  const auto prediction = model.predict(2, x);
  REQUIRE(model.arm_count() == 1);
  REQUIRE_FALSE(model.has_state(2));
  REQUIRE_FALSE(model.state(2).has_value());
  REQUIRE(prediction.mean == 0.0);                                  // theta = 0
  REQUIRE(prediction.width == Approx(std::sqrt(9.0 / kRidge)));     // A^-1 = I / ridge
  REQUIRE(model.arm_count() == 1);
}

TEST_CASE("a ridge model rejects a bad dimension, ridge or reward", "[policies]") {
  REQUIRE_THROWS_AS(DisjointRidge(0, 1.0), std::invalid_argument);
  REQUIRE_THROWS_AS(DisjointRidge(3, 0.0), std::invalid_argument);
  REQUIRE_THROWS_AS(DisjointRidge(3, -1.0), std::invalid_argument);
  REQUIRE_THROWS_AS(DisjointRidge(3, std::nan("")), std::invalid_argument);
  DisjointRidge model(2, 1.0);
  REQUIRE_THROWS_AS(model.update(0, Eigen::Vector2d(1.0, 0.0), std::nan("")), std::logic_error);
  REQUIRE_THROWS_AS(model.update(0, Eigen::Vector3d(1.0, 0.0, 0.0), 1.0), std::logic_error);
  REQUIRE(model.arm_count() == 0);
}

TEST_CASE("single-precision widths stay within the rounding bound of the double widths",
          "[policies]") {
  // quadratic_form.h: |x'A~x - x'Ax| <= (2^-24 + (d + 2) 2^-53) x'|A^-1|x
  // for the width's square; both models share the double state exactly.
  for (int dim : {3, 4, 11, 32}) {
    Rng rng(40 + static_cast<std::uint64_t>(dim));
    DisjointRidge exact(dim, 1.5);
    DisjointRidge single(dim, 1.5);
    single.use_single_precision_widths();
    REQUIRE(single.single_precision_widths());
    for (int t = 0; t < 4 * dim; ++t) {
      const Eigen::VectorXd x = random_vector(rng, dim);
      const double reward = standard_normal(rng);
      exact.update(static_cast<ItemId>(t % 2), x, reward);
      single.update(static_cast<ItemId>(t % 2), x, reward);
    }
    for (int i = 0; i < 10; ++i) {
      const Eigen::VectorXd x = random_vector(rng, dim);
      const auto a = exact.predict(1, x);
      const auto b = single.predict(1, x);
      const Eigen::MatrixXd A_inv = exact.state(1)->A_inv;
      const double bound =
          (0x1.0p-24 + (dim + 2) * 0x1.0p-53) * x.cwiseAbs().dot(A_inv.cwiseAbs() * x.cwiseAbs());
      REQUIRE(b.mean == a.mean);  // means are computed in double either way
      REQUIRE(std::abs(b.width * b.width - a.width * a.width) <= bound);
    }
  }
}

TEST_CASE("the single-precision copy is a function of the double state alone", "[policies]") {
  // Kept in step through updates, or built at once from the same state (as
  // after loading a saved model): the same bits, so the same widths.
  Rng rng(41);
  DisjointRidge during(6, 1.0);
  DisjointRidge after(6, 1.0);
  during.use_single_precision_widths();
  for (int t = 0; t < 60; ++t) {
    const Eigen::VectorXd x = random_vector(rng, 6);
    const double reward = standard_normal(rng);
    during.update(static_cast<ItemId>(t % 4), x, reward);
    after.update(static_cast<ItemId>(t % 4), x, reward);
  }
  after.use_single_precision_widths();
  for (int i = 0; i < 20; ++i) {
    const Eigen::VectorXd x = random_vector(rng, 6);
    for (ItemId item = 0; item < 5; ++item) {  // item 4 has no state: the prior
      REQUIRE(during.predict(item, x).width == after.predict(item, x).width);
    }
  }
}

TEST_CASE("a ridge too small for float keeps double-precision widths", "[policies]") {
  DisjointRidge model(2, 1e-39);  // 1 / ridge = 1e39 > FLT_MAX
  model.use_single_precision_widths();
  REQUIRE_FALSE(model.single_precision_widths());
}

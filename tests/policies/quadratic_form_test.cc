// SPDX-License-Identifier: Apache-2.0
#include "policies/quadratic_form.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include <Eigen/Dense>

#include "core/rng.h"
#include "core/sampling.h"

using namespace recloop;

namespace {

// A random symmetric positive definite matrix (an inverse Gram matrix, like A^-1).
Eigen::MatrixXd random_spd(Rng& rng, int n) {
  Eigen::MatrixXd G = Eigen::MatrixXd::Identity(n, n);
  for (int t = 0; t < 2 * n; ++t) {
    Eigen::VectorXd v(n);
    for (auto& e : v) e = standard_normal(rng);
    G += v * v.transpose();
  }
  return G.inverse();
}

std::vector<double> packed_upper(const Eigen::MatrixXd& M) {
  std::vector<double> packed;
  for (int j = 0; j < M.cols(); ++j) {
    for (int i = 0; i <= j; ++i) packed.push_back(M(i, j));
  }
  return packed;
}

}  // namespace

TEST_CASE("both quadratic form kernels equal x'Mx for every dimension", "[policies]") {
  // All remainders mod 4, and the sizes of the benchmarks. Relative error
  // 1e-12: d(d+1)/2 <= 8256 roundings of ~1e-16 each, far below it.
  Rng rng(3);
  for (int n = 1; n <= 40; ++n) {
    const Eigen::MatrixXd M = random_spd(rng, n);
    const auto packed = packed_upper(M);
    for (int trial = 0; trial < 3; ++trial) {
      Eigen::VectorXd x(n);
      for (auto& e : x) e = standard_normal(rng);
      const double exact = x.dot(M * x);
      INFO("n = " << n);
      REQUIRE(packed_quadratic_form_portable(packed.data(), x.data(), n) ==
              Approx(exact).epsilon(1e-12));
      if (has_avx2_quadratic_form()) {
        REQUIRE(packed_quadratic_form_avx2(packed.data(), x.data(), n) ==
                Approx(exact).epsilon(1e-12));
      }
      const double chosen = packed_quadratic_form(packed.data(), x.data(), n);
      REQUIRE((chosen == packed_quadratic_form_portable(packed.data(), x.data(), n) ||
               (has_avx2_quadratic_form() &&
                chosen == packed_quadratic_form_avx2(packed.data(), x.data(), n))));
    }
  }
  for (int n : {128}) {
    const Eigen::MatrixXd M = random_spd(rng, n);
    const auto packed = packed_upper(M);
    Eigen::VectorXd x(n);
    for (auto& e : x) e = standard_normal(rng);
    REQUIRE(packed_quadratic_form(packed.data(), x.data(), n) ==
            Approx(x.dot(M * x)).epsilon(1e-12));
  }
}

TEST_CASE("the quadratic form kernels read only the packed triangle", "[policies]") {
  // The AVX2 kernel loads whole vectors of four entries, some past a column's
  // diagonal (weighted 0); none may come from beyond the matrix itself.
  constexpr int n = 8;
  Rng rng(4);
  const Eigen::MatrixXd M = random_spd(rng, n);
  auto packed = packed_upper(M);
  std::vector<double> padded(packed);
  padded.push_back(1e300);  // one past the end must never be read
  Eigen::VectorXd x(n);
  for (auto& e : x) e = standard_normal(rng);
  const double q = packed_quadratic_form(padded.data(), x.data(), n);
  REQUIRE(std::isfinite(q));
  REQUIRE(q == Approx(x.dot(M * x)).epsilon(1e-12));
}

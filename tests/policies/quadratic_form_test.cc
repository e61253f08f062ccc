// SPDX-License-Identifier: Apache-2.0
#include "policies/quadratic_form.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
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

TEST_CASE("the single-precision copy doubles the entries above the diagonal", "[policies]") {
  Rng rng(5);
  constexpr int n = 7;
  const Eigen::MatrixXd M = random_spd(rng, n);
  const auto packed = packed_upper(M);
  std::vector<float> single(packed.size());
  round_to_doubled_single(packed.data(), n, single.data());
  std::size_t p = 0;
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i <= j; ++i, ++p) {
      // Doubling is exact, so this is M_ij rounded once, times 2 off the diagonal.
      REQUIRE(single[p] == (i < j ? 2.0f : 1.0f) * static_cast<float>(M(i, j)));
    }
  }
}

TEST_CASE("both single-precision kernels are within their rounding bound of x'Mx",
          "[policies]") {
  // quadratic_form.h: |x'M~x - x'Mx| <= (2^-24 + (n + 2) 2^-53) x'|M|x. The
  // exact value here is Eigen's double x'Mx (error ~n 2^-53 x'|M|x itself),
  // so the bound is checked with that added: (2^-24 + 2 (n + 2) 2^-53).
  Rng rng(6);
  for (int n : {1, 2, 3, 4, 5, 7, 8, 9, 16, 31, 32, 33, 40, 128}) {
    const Eigen::MatrixXd M = random_spd(rng, n);
    const auto packed = packed_upper(M);
    std::vector<float> single(packed.size());
    round_to_doubled_single(packed.data(), n, single.data());
    for (int trial = 0; trial < 3; ++trial) {
      Eigen::VectorXd x(n);
      for (auto& e : x) e = standard_normal(rng);
      const double exact = x.dot(M * x);
      const double abs_form = x.cwiseAbs().dot(M.cwiseAbs() * x.cwiseAbs());
      const double bound = (0x1.0p-24 + 2.0 * (n + 2) * 0x1.0p-53) * abs_form;
      INFO("n = " << n);
      REQUIRE(std::abs(single_quadratic_form_portable(single.data(), x.data(), n) - exact) <=
              bound);
      if (has_avx2_quadratic_form()) {
        REQUIRE(std::abs(single_quadratic_form_avx2(single.data(), x.data(), n) - exact) <=
                bound);
      }
      const double chosen = single_quadratic_form(single.data(), x.data(), n);
      REQUIRE((chosen == single_quadratic_form_portable(single.data(), x.data(), n) ||
               (has_avx2_quadratic_form() &&
                chosen == single_quadratic_form_avx2(single.data(), x.data(), n))));
    }
  }
}

TEST_CASE("the single-precision kernels read only the copy of the triangle", "[policies]") {
  constexpr int n = 8;
  Rng rng(7);
  const Eigen::MatrixXd M = random_spd(rng, n);
  const auto packed = packed_upper(M);
  std::vector<float> padded(packed.size() + 1);
  round_to_doubled_single(packed.data(), n, padded.data());
  padded.back() = std::numeric_limits<float>::quiet_NaN();  // one past the end must never be read
  Eigen::VectorXd x(n);
  for (auto& e : x) e = standard_normal(rng);
  REQUIRE(std::isfinite(single_quadratic_form(padded.data(), x.data(), n)));
}

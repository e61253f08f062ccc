// SPDX-License-Identifier: Apache-2.0
#include "policies/ridge.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <stdexcept>
#include <string>

#include "core/check.h"

namespace recloop {
namespace {

// Start of column j in the packed upper triangle (column j holds rows 0..j).
std::size_t column_offset(int j) { return static_cast<std::size_t>(j) * (j + 1) / 2; }

// Two doubles that Eigen keeps in one SIMD register where the target has one.
using Pair = Eigen::Array2d;
Pair load_pair(const double* p) { return Eigen::Map<const Pair, Eigen::Unaligned>(p); }

// x' M x for symmetric M given by its packed upper triangle `m`:
//   sum_j x_j (M_jj x_j + 2 sum_{i<j} M_ij x_i),   d(d+1)/2 multiply-adds.
// This is LinUCB's cost per candidate, so it is blocked: four columns at a
// time share each load of x, and their four accumulators are independent
// chains (a plain loop has one chain per column, which the compiler may not
// reorder, so it stalls on the latency of every addition). The order of the
// additions is fixed by the source, whatever the SIMD width.
double packed_quadratic_form(const double* m, const double* x, int n) {
  double q = 0.0;
  int j0 = 0;
  for (; j0 + 4 <= n; j0 += 4) {
    // Columns j0 .. j0+3; column j holds j + 1 entries.
    const double* c0 = m + column_offset(j0);
    const double* c1 = c0 + j0 + 1;
    const double* c2 = c1 + j0 + 2;
    const double* c3 = c2 + j0 + 3;
    Pair a0 = Pair::Zero(), a1 = Pair::Zero(), a2 = Pair::Zero(), a3 = Pair::Zero();
    for (int i = 0; i < j0; i += 2) {  // rows above the block (j0 is even)
      const Pair xi = load_pair(x + i);
      a0 += load_pair(c0 + i) * xi;
      a1 += load_pair(c1 + i) * xi;
      a2 += load_pair(c2 + i) * xi;
      a3 += load_pair(c3 + i) * xi;
    }
    // The block's own upper triangle, then its diagonal.
    const double* xj = x + j0;
    const double s0 = a0.sum();
    const double s1 = a1.sum() + c1[j0] * xj[0];
    const double s2 = a2.sum() + (c2[j0] * xj[0] + c2[j0 + 1] * xj[1]);
    const double s3 = a3.sum() + (c3[j0] * xj[0] + c3[j0 + 1] * xj[1] + c3[j0 + 2] * xj[2]);
    q += (xj[0] * (2.0 * s0 + c0[j0] * xj[0]) + xj[1] * (2.0 * s1 + c1[j0 + 1] * xj[1])) +
         (xj[2] * (2.0 * s2 + c2[j0 + 2] * xj[2]) + xj[3] * (2.0 * s3 + c3[j0 + 3] * xj[3]));
  }
  for (int j = j0; j < n; ++j) {  // the last n mod 4 columns
    const double* column = m + column_offset(j);
    double s = 0.0;
    for (int i = 0; i < j; ++i) s += column[i] * x[i];
    q += x[j] * (2.0 * s + column[j] * x[j]);
  }
  return q;
}

// y = M x for symmetric M given by its packed upper triangle `m`.
void packed_symmetric_product(const double* m, const double* x, int n, double* y) {
  std::fill(y, y + n, 0.0);
  for (int j = 0; j < n; ++j) {
    const double* column = m + column_offset(j);
    double dot = 0.0;
    for (int i = 0; i < j; ++i) {
      y[i] += column[i] * x[j];  // M_ij x_j, upper part of row i
      dot += column[i] * x[i];   // M_ji x_i = M_ij x_i, lower part of row j
    }
    y[j] += dot + column[j] * x[j];
  }
}

// M -= g g' on the packed upper triangle: symmetric by construction.
void packed_subtract_outer(double* m, const double* g, int n) {
  for (int j = 0; j < n; ++j) {
    double* column = m + column_offset(j);
    for (int i = 0; i <= j; ++i) column[i] -= g[i] * g[j];
  }
}

}  // namespace

DisjointRidge::DisjointRidge(int dim, double ridge) : dim_(dim), ridge_(ridge) {
  if (dim < 1) {
    throw std::invalid_argument("DisjointRidge: dim = " + std::to_string(dim) + ", need >= 1");
  }
  if (!(std::isfinite(ridge) && ridge > 0.0)) {
    throw std::invalid_argument("DisjointRidge: ridge = " + std::to_string(ridge) +
                                ", need > 0");
  }
  k_.resize(static_cast<std::size_t>(dim));
}

std::size_t DisjointRidge::packed_size() const { return column_offset(dim_); }

std::uint32_t DisjointRidge::slot(ItemId item) const {
  const auto it = slots_.find(item);
  return it == slots_.end() ? kNoSlot : it->second;
}

void DisjointRidge::means(const Context& context, std::span<double> out) const {
  assert(context.feature_dim() == dim_ && out.size() == context.size());
  const auto user_dim = context.user.size();
  for (std::size_t a = 0; a < context.size(); ++a) {
    const std::uint32_t s = slot(context.items[a]);
    if (s == kNoSlot) {
      out[a] = 0.0;  // prior: theta = 0
      continue;
    }
    // x' theta with x = [user; actions.col(a)], without copying x.
    const Eigen::Map<const Eigen::VectorXd> theta(theta_.data() + std::size_t{s} * dim_, dim_);
    out[a] = context.user.dot(theta.head(user_dim)) +
             context.actions.col(static_cast<Eigen::Index>(a)).dot(theta.tail(dim_ - user_dim));
  }
}

void DisjointRidge::predict(const Context& context, std::span<Prediction> out) const {
  assert(context.feature_dim() == dim_ && out.size() == context.size());
  const std::size_t packed = packed_size();
  Eigen::VectorXd x(dim_);  // one buffer for all candidates
  for (std::size_t a = 0; a < context.size(); ++a) {
    const std::uint32_t s = slot(context.items[a]);
    joint_features(context, static_cast<ActionId>(a), x);
    if (s == kNoSlot) {
      out[a] = {0.0, std::sqrt(x.squaredNorm() / ridge_)};  // prior: A^-1 = I / ridge
      continue;
    }
    const double* theta = theta_.data() + std::size_t{s} * dim_;
    const double variance =
        packed_quadratic_form(A_inv_.data() + std::size_t{s} * packed, x.data(), dim_);
    // Rounding can push x'A^-1x of a near-null direction a hair below zero.
    out[a] = {x.dot(Eigen::Map<const Eigen::VectorXd>(theta, dim_)),
              std::sqrt(std::max(0.0, variance))};
  }
}

DisjointRidge::Prediction DisjointRidge::predict(ItemId item,
                                                 const Eigen::Ref<const Eigen::VectorXd>& x) const {
  assert(x.size() == dim_);
  const std::uint32_t s = slot(item);
  if (s == kNoSlot) return {0.0, std::sqrt(x.squaredNorm() / ridge_)};
  // A Ref<const VectorXd> is contiguous (Eigen copies a strided argument), so
  // x.data() can go straight to the kernel.
  const double variance =
      packed_quadratic_form(A_inv_.data() + std::size_t{s} * packed_size(), x.data(), dim_);
  return {x.dot(Eigen::Map<const Eigen::VectorXd>(theta_.data() + std::size_t{s} * dim_, dim_)),
          std::sqrt(std::max(0.0, variance))};
}

void DisjointRidge::update(ItemId item, const Eigen::Ref<const Eigen::VectorXd>& x,
                           double reward) {
  RECLOOP_CHECK(x.size() == dim_, "feature vector of length " + std::to_string(x.size()) +
                                      ", model expects " + std::to_string(dim_));
  RECLOOP_CHECK(std::isfinite(reward), "non-finite reward " + std::to_string(reward));
  const std::size_t d = static_cast<std::size_t>(dim_);
  const std::size_t packed = packed_size();
  auto [it, inserted] = slots_.try_emplace(item, static_cast<std::uint32_t>(updates_.size()));
  const std::size_t s = it->second;
  if (inserted) {
    // Li et al. 2010, Alg. 1 lines 4-6 (with ridge in place of 1): A = ridge I, b = 0.
    theta_.resize(theta_.size() + d, 0.0);
    b_.resize(b_.size() + d, 0.0);
    A_inv_.resize(A_inv_.size() + packed, 0.0);
    for (int j = 0; j < dim_; ++j) A_inv_[s * packed + column_offset(j) + j] = 1.0 / ridge_;
    updates_.push_back(0);
  }
  double* A_inv = A_inv_.data() + s * packed;
  Eigen::Map<Eigen::VectorXd> theta(theta_.data() + s * d, dim_);
  Eigen::Map<Eigen::VectorXd> b(b_.data() + s * d, dim_);
  Eigen::Map<Eigen::VectorXd> k(k_.data(), dim_);

  // Sherman & Morrison 1950, applied to LinUCB's A_a += x x' (Li et al. 2010,
  // Alg. 1 line 12): (A + x x')^-1 = A^-1 - (A^-1 x)(A^-1 x)' / (1 + x'A^-1 x).
  packed_symmetric_product(A_inv, x.data(), dim_, k.data());
  const double denominator = 1.0 + x.dot(k);  // >= 1: A^-1 is positive definite
  // theta = A^-1 b after b += r x (Alg. 1 lines 8 and 13), by the same identity,
  // in recursive least squares form: theta += k (r - x'theta) / (1 + x'k).
  theta += k * ((reward - x.dot(theta)) / denominator);
  b += reward * x;
  k /= std::sqrt(denominator);
  packed_subtract_outer(A_inv, k.data(), dim_);
  ++updates_[s];
}

std::optional<DisjointRidge::ArmState> DisjointRidge::state(ItemId item) const {
  const std::uint32_t s = slot(item);
  if (s == kNoSlot) return std::nullopt;
  const std::size_t d = static_cast<std::size_t>(dim_);
  ArmState arm;
  arm.A_inv.resize(dim_, dim_);
  const double* packed = A_inv_.data() + std::size_t{s} * packed_size();
  for (int j = 0; j < dim_; ++j) {
    for (int i = 0; i <= j; ++i) arm.A_inv(i, j) = arm.A_inv(j, i) = packed[column_offset(j) + i];
  }
  arm.b = Eigen::Map<const Eigen::VectorXd>(b_.data() + s * d, dim_);
  arm.theta = Eigen::Map<const Eigen::VectorXd>(theta_.data() + s * d, dim_);
  arm.updates = updates_[s];
  return arm;
}

}  // namespace recloop

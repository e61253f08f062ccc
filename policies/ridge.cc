// SPDX-License-Identifier: Apache-2.0
#include "policies/ridge.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/check.h"
#include "core/codec.h"
#include "core/error.h"
#include "core/model_io.h"
#include "policies/quadratic_form.h"

#if defined(__GNUC__) && defined(__x86_64__)
#define RECLOOP_HAVE_AVX2_UPDATE 1
#include <immintrin.h>
#endif

namespace recloop {
namespace {

// Start of column j in the packed upper triangle (column j holds rows 0..j).
std::size_t column_offset(int j) { return static_cast<std::size_t>(j) * (j + 1) / 2; }

// Two doubles that Eigen keeps in one SIMD register where the target has one.
using UpdatePair = Eigen::Array2d;
UpdatePair load_update_pair(const double* p) {
  return Eigen::Map<const UpdatePair, Eigen::Unaligned>(p);
}

// y = M x for symmetric M given by its packed upper triangle `m`. Column j
// serves twice: the upper part of the rows above it (y_i += M_ij x_j, i < j)
// and the lower part of its own row (y_j += sum_{i<j} M_ij x_i). Every
// update() pays these d(d+1) multiply-adds, K times per off-policy learning
// step, so the kernel is blocked like the quadratic form: four columns at a
// time share each load and store of y and each load of x, and their four
// row sums are independent chains (one chain per column would wait on the
// latency of every addition). The order of the additions is fixed by the
// source, whatever the SIMD width.
void packed_symmetric_product(const double* m, const double* x, int n, double* y) {
  std::fill(y, y + n, 0.0);
  int j0 = 0;
  for (; j0 + 4 <= n; j0 += 4) {
    // Columns j0 .. j0+3; column j holds j + 1 entries.
    const double* c0 = m + column_offset(j0);
    const double* c1 = c0 + j0 + 1;
    const double* c2 = c1 + j0 + 2;
    const double* c3 = c2 + j0 + 3;
    const double* xj = x + j0;
    UpdatePair s0 = UpdatePair::Zero(), s1 = UpdatePair::Zero(), s2 = UpdatePair::Zero(),
               s3 = UpdatePair::Zero();
    const UpdatePair x0 = UpdatePair::Constant(xj[0]), x1 = UpdatePair::Constant(xj[1]),
                     x2 = UpdatePair::Constant(xj[2]), x3 = UpdatePair::Constant(xj[3]);
    for (int i = 0; i < j0; i += 2) {  // rows above the block (j0 is even)
      const UpdatePair a0 = load_update_pair(c0 + i), a1 = load_update_pair(c1 + i),
                       a2 = load_update_pair(c2 + i), a3 = load_update_pair(c3 + i);
      const UpdatePair xi = load_update_pair(x + i);
      Eigen::Map<UpdatePair, Eigen::Unaligned> yi(y + i);
      yi += (a0 * x0 + a1 * x1) + (a2 * x2 + a3 * x3);
      s0 += a0 * xi;
      s1 += a1 * xi;
      s2 += a2 * xi;
      s3 += a3 * xi;
    }
    // The block's own upper triangle and diagonal.
    double* yj = y + j0;
    yj[0] += c1[j0] * xj[1] + c2[j0] * xj[2] + c3[j0] * xj[3];
    yj[1] += c2[j0 + 1] * xj[2] + c3[j0 + 1] * xj[3];
    yj[2] += c3[j0 + 2] * xj[3];
    yj[0] += s0.sum() + c0[j0] * xj[0];
    yj[1] += s1.sum() + c1[j0] * xj[0] + c1[j0 + 1] * xj[1];
    yj[2] += s2.sum() + (c2[j0] * xj[0] + c2[j0 + 1] * xj[1]) + c2[j0 + 2] * xj[2];
    yj[3] += s3.sum() + (c3[j0] * xj[0] + c3[j0 + 1] * xj[1] + c3[j0 + 2] * xj[2]) +
             c3[j0 + 3] * xj[3];
  }
  for (int j = j0; j < n; ++j) {  // the last n mod 4 columns
    const double* column = m + column_offset(j);
    double dot = 0.0;
    for (int i = 0; i < j; ++i) {
      y[i] += column[i] * x[j];
      dot += column[i] * x[i];
    }
    y[j] += dot + column[j] * x[j];
  }
}

// sum_i a_i b_i with four independent partial sums (a single running sum
// would wait on the latency of every addition), in a fixed order.
__attribute__((always_inline)) inline double dot(const double* a, const double* b,
                                                 std::size_t n) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

// M -= g g' on the packed upper triangle: symmetric by construction.
void packed_subtract_outer(double* m, const double* g, int n) {
  for (int j = 0; j < n; ++j) {
    double* column = m + column_offset(j);
    for (int i = 0; i <= j; ++i) column[i] -= g[i] * g[j];
  }
}

#ifdef RECLOOP_HAVE_AVX2_UPDATE
// The two kernels again, four doubles per register with fused multiply-adds,
// for CPUs that have AVX2 and FMA (chosen at run time, as for the quadratic
// form; see quadratic_form.h). Same blocking; the product's 4 x 4 corner
// blocks use masked vectors and its row sums one transpose-add per block
// instead of scalar arithmetic, so the order of additions differs from the
// portable kernels, and FMA rounds once per multiply-add: the results differ
// in the last bits, and are reproducible on one machine.
//
// kFixed > 0 is the dimension known at compile time (n is then ignored): the
// loops have fixed trip counts and are unrolled completely, so the kernel
// runs without a branch; the short inner loops of varying length otherwise
// cost about a branch misprediction per block of columns.
// y never overlaps m or x (update() passes its own workspace), which lets
// the compiler keep the unrolled kernel's y in registers.
template <int kFixed>
__attribute__((target("avx2,fma"))) void packed_symmetric_product_avx2(
    const double* __restrict__ m, const double* __restrict__ x, int runtime_n,
    double* __restrict__ y) {
  const int n = kFixed > 0 ? kFixed : runtime_n;
  // No clearing of y up front: rows j0..j0+3 are first written by block j0's
  // corner (earlier blocks reach only rows above it), which stores them.
  // upper_k: lanes 0..k of a vector (the rows on or above column k's diagonal).
  const __m256d upper0 = _mm256_castsi256_pd(_mm256_setr_epi64x(-1, 0, 0, 0));
  const __m256d upper1 = _mm256_castsi256_pd(_mm256_setr_epi64x(-1, -1, 0, 0));
  const __m256d upper2 = _mm256_castsi256_pd(_mm256_setr_epi64x(-1, -1, -1, 0));
  int j0 = 0;
#pragma GCC unroll 32
  for (; j0 + 4 <= n; j0 += 4) {
    const double* c0 = m + column_offset(j0);
    const double* c1 = c0 + j0 + 1;
    const double* c2 = c1 + j0 + 2;
    const double* c3 = c2 + j0 + 3;
    const double* xj = x + j0;
    __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
    const __m256d x0 = _mm256_set1_pd(xj[0]), x1 = _mm256_set1_pd(xj[1]),
                  x2 = _mm256_set1_pd(xj[2]), x3 = _mm256_set1_pd(xj[3]);
#pragma GCC unroll 32
    for (int i = 0; i < j0; i += 4) {  // rows above the block (j0 is a multiple of 4)
      const __m256d a0 = _mm256_loadu_pd(c0 + i), a1 = _mm256_loadu_pd(c1 + i),
                    a2 = _mm256_loadu_pd(c2 + i), a3 = _mm256_loadu_pd(c3 + i);
      const __m256d xi = _mm256_loadu_pd(x + i);
      __m256d yi = _mm256_loadu_pd(y + i);
      yi = _mm256_fmadd_pd(a0, x0, yi);
      yi = _mm256_fmadd_pd(a1, x1, yi);
      yi = _mm256_fmadd_pd(a2, x2, yi);
      yi = _mm256_fmadd_pd(a3, x3, yi);
      _mm256_storeu_pd(y + i, yi);
      s0 = _mm256_fmadd_pd(a0, xi, s0);
      s1 = _mm256_fmadd_pd(a1, xi, s1);
      s2 = _mm256_fmadd_pd(a2, xi, s2);
      s3 = _mm256_fmadd_pd(a3, xi, s3);
    }
    // The block's own 4 x 4 corner, read as four column vectors (the entries
    // below a column's diagonal are the start of the next column: valid
    // memory, masked off). Lane i of v_k is M_{j0+i, j0+k}. Its upper part
    // (lanes <= k) adds v_k x_{j0+k} to rows j0..j0+k; its strict upper part
    // (lanes < k) adds to row j0+k, with the rows above the block, through s_k.
    const __m256d xb = _mm256_loadu_pd(xj);
    const __m256d v0 = _mm256_loadu_pd(c0 + j0), v1 = _mm256_loadu_pd(c1 + j0),
                  v2 = _mm256_loadu_pd(c2 + j0), v3 = _mm256_loadu_pd(c3 + j0);
    __m256d corner = _mm256_mul_pd(_mm256_and_pd(v0, upper0), x0);
    corner = _mm256_fmadd_pd(_mm256_and_pd(v1, upper1), x1, corner);
    corner = _mm256_fmadd_pd(_mm256_and_pd(v2, upper2), x2, corner);
    corner = _mm256_fmadd_pd(v3, x3, corner);
    s1 = _mm256_fmadd_pd(_mm256_and_pd(v1, upper0), xb, s1);
    s2 = _mm256_fmadd_pd(_mm256_and_pd(v2, upper1), xb, s2);
    s3 = _mm256_fmadd_pd(_mm256_and_pd(v3, upper2), xb, s3);
    // (sum of s0's lanes, ..., sum of s3's lanes) by a 4 x 4 transpose-add.
    const __m256d h01 = _mm256_hadd_pd(s0, s1);
    const __m256d h23 = _mm256_hadd_pd(s2, s3);
    const __m256d sums = _mm256_add_pd(_mm256_permute2f128_pd(h01, h23, 0x20),
                                       _mm256_permute2f128_pd(h01, h23, 0x31));
    _mm256_storeu_pd(y + j0, _mm256_add_pd(corner, sums));
  }
  std::fill(y + j0, y + n, 0.0);
  for (int j = j0; j < n; ++j) {  // the last n mod 4 columns
    const double* column = m + column_offset(j);
    double dot = 0.0;
    for (int i = 0; i < j; ++i) {
      y[i] += column[i] * x[j];
      dot += column[i] * x[i];
    }
    y[j] += dot + column[j] * x[j];
  }
}

__attribute__((target("avx2,fma"))) void packed_subtract_outer_avx2(double* m, const double* g,
                                                                    int n) {
  for (int j = 0; j < n; ++j) {
    double* column = m + column_offset(j);
    const __m256d gj = _mm256_set1_pd(g[j]);
    int i = 0;
    for (; i + 4 <= j + 1; i += 4) {
      _mm256_storeu_pd(column + i, _mm256_fnmadd_pd(_mm256_loadu_pd(g + i), gj,
                                                    _mm256_loadu_pd(column + i)));
    }
    for (; i <= j; ++i) column[i] -= g[i] * g[j];
  }
}

// The subtraction for a dimension known at compile time: every loop has a
// fixed trip count and is unrolled completely, so the kernel runs without a
// branch (the generic one's short loops of varying length cost a branch
// misprediction per column, which at d = 32 took as long as the arithmetic:
// off-policy learning went from 335k to 405k events/s with this alone). The
// last n mod 4 entries of a column go as a pair and a single, fused like the
// rest.
template <int N>
__attribute__((target("avx2,fma"))) void packed_subtract_outer_fixed(double* __restrict__ m,
                                                                     const double* __restrict__ g) {
#pragma GCC unroll 128
  for (int j = 0; j < N; ++j) {
    double* column = m + column_offset(j);
    const double gj = g[j];
    const __m256d gj4 = _mm256_set1_pd(gj);
    int i = 0;
#pragma GCC unroll 32
    for (; i + 4 <= j + 1; i += 4) {
      _mm256_storeu_pd(column + i, _mm256_fnmadd_pd(_mm256_loadu_pd(g + i), gj4,
                                                    _mm256_loadu_pd(column + i)));
    }
    if (i + 2 <= j + 1) {
      _mm_storeu_pd(column + i, _mm_fnmadd_pd(_mm_loadu_pd(g + i), _mm_set1_pd(gj),
                                              _mm_loadu_pd(column + i)));
      i += 2;
    }
    if (i < j + 1) column[i] = std::fma(-g[i], gj, column[i]);
  }
}

__attribute__((target("avx2,fma"))) void packed_symmetric_product_avx2_dispatch(
    const double* m, const double* x, int n, double* y) {
  switch (n) {
    case 16:
      return packed_symmetric_product_avx2<16>(m, x, n, y);
    case 32:
      return packed_symmetric_product_avx2<32>(m, x, n, y);
    default:
      return packed_symmetric_product_avx2<0>(m, x, n, y);
  }
}

__attribute__((target("avx2,fma"))) void packed_subtract_outer_avx2_dispatch(double* m,
                                                                             const double* g,
                                                                             int n) {
  switch (n) {
    case 16:
      return packed_subtract_outer_fixed<16>(m, g);
    case 32:
      return packed_subtract_outer_fixed<32>(m, g);
    default:
      return packed_subtract_outer_avx2(m, g, n);
  }
}
#endif

// The kernels update() uses, chosen once per process from the CPU alone.
struct UpdateKernels {
  void (*product)(const double*, const double*, int, double*);
  void (*subtract_outer)(double*, const double*, int);
};

const UpdateKernels& update_kernels() {
#ifdef RECLOOP_HAVE_AVX2_UPDATE
  static const UpdateKernels kernels =
      has_avx2_quadratic_form()
          ? UpdateKernels{packed_symmetric_product_avx2_dispatch,
                          packed_subtract_outer_avx2_dispatch}
          : UpdateKernels{packed_symmetric_product, packed_subtract_outer};
#else
  static const UpdateKernels kernels{packed_symmetric_product, packed_subtract_outer};
#endif
  return kernels;
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

void DisjointRidge::use_single_precision_widths() {
  // Every entry of A^-1 is at most its largest eigenvalue, 1 / ridge, in
  // magnitude (A >= ridge I): a ridge so small that the doubled entries
  // could overflow a float keeps the double widths.
  if (single_ || 2.0 / ridge_ > static_cast<double>(std::numeric_limits<float>::max())) return;
  single_ = true;
  A_inv_single_.resize(A_inv_.size());
  const std::size_t packed = packed_size();
  for (std::size_t first = 0; first < A_inv_.size(); first += packed) {
    round_to_doubled_single(A_inv_.data() + first, dim_, A_inv_single_.data() + first);
  }
}

std::uint32_t DisjointRidge::slot(ItemId item) const {
  const auto it = slots_.find(item);
  return it == slots_.end() ? kNoSlot : it->second;
}

void DisjointRidge::means(const Context& context, std::span<double> out) const {
  assert(context.feature_dim() == dim_ && out.size() == context.size());
  // Plain loops over the column-major features: Eigen's expressions on
  // vectors this short (16 + 16) cost more in set-up than in arithmetic.
  const auto user_dim = static_cast<std::size_t>(context.user.size());
  const auto item_dim = static_cast<std::size_t>(context.actions.rows());
  const double* user = context.user.data();
  for (std::size_t a = 0; a < context.size(); ++a) {
    const std::uint32_t s = slot(context.items[a]);
    if (s == kNoSlot) {
      out[a] = 0.0;  // prior: theta = 0
      continue;
    }
    // x' theta with x = [user; actions.col(a)], without copying x.
    const double* theta = theta_.data() + std::size_t{s} * dim_;
    const double* item = context.actions.data() + a * item_dim;
    out[a] = dot(user, theta, user_dim) + dot(item, theta + user_dim, item_dim);
  }
}

void DisjointRidge::predict(const Context& context, std::span<Prediction> out) const {
  assert(context.feature_dim() == dim_ && out.size() == context.size());
  const std::size_t packed = packed_size();
  Eigen::VectorXd x(dim_);  // one buffer for all candidates
  // The slot of every candidate first, so that the start of the next
  // candidate's A^-1 (d(d+1)/2 doubles: 4.2 KB at d = 32, in L3 or memory
  // for a large catalogue) is on its way while this one's quadratic form is
  // computed; otherwise the kernel waits on the first lines of every block
  // until the hardware prefetcher has seen the stream. Beyond 4 KB (d > 32)
  // the hardware prefetcher keeps up on its own, and prefetching whole 66 KB
  // blocks (d = 128) would only evict the block in use.
  // With single-precision widths the blocks are half as large (2.1 KB at d = 32).
  constexpr std::size_t kPrefetchBytes = 4096;
  constexpr std::size_t kLineBytes = 64;
  std::vector<std::uint32_t> slots(context.size());
  for (std::size_t a = 0; a < context.size(); ++a) slots[a] = slot(context.items[a]);
  const std::size_t block_bytes = packed * (single_ ? sizeof(float) : sizeof(double));
  const std::size_t prefetch_bytes = std::min(block_bytes, kPrefetchBytes);
  const char* blocks = single_ ? reinterpret_cast<const char*>(A_inv_single_.data())
                               : reinterpret_cast<const char*>(A_inv_.data());
  const auto prefetch = [&](std::size_t a) {
    if (a >= slots.size() || slots[a] == kNoSlot) return;
    const char* block = blocks + std::size_t{slots[a]} * block_bytes;
    for (std::size_t byte = 0; byte < prefetch_bytes; byte += kLineBytes) {
      __builtin_prefetch(block + byte);
    }
  };
  prefetch(0);
  // joint_features() of each candidate: the user part is shared, copied once.
  const auto user_dim = context.user.size();
  x.head(user_dim) = context.user;
  for (std::size_t a = 0; a < context.size(); ++a) {
    const std::uint32_t s = slots[a];
    prefetch(a + 1);
    x.tail(dim_ - user_dim) = context.actions.col(static_cast<Eigen::Index>(a));
    if (s == kNoSlot) {
      out[a] = {0.0, std::sqrt(x.squaredNorm() / ridge_)};  // prior: A^-1 = I / ridge
      continue;
    }
    const double* theta = theta_.data() + std::size_t{s} * dim_;
    const double variance =
        single_ ? single_quadratic_form(A_inv_single_.data() + std::size_t{s} * packed, x.data(),
                                        dim_)
                : packed_quadratic_form(A_inv_.data() + std::size_t{s} * packed, x.data(), dim_);
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
  const std::size_t first = std::size_t{s} * packed_size();
  const double variance = single_
                              ? single_quadratic_form(A_inv_single_.data() + first, x.data(), dim_)
                              : packed_quadratic_form(A_inv_.data() + first, x.data(), dim_);
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
    if (single_) A_inv_single_.resize(A_inv_.size());
    updates_.push_back(0);
  }
  double* A_inv = A_inv_.data() + s * packed;
  double* theta = theta_.data() + s * d;
  double* b = b_.data() + s * d;
  const double* xs = x.data();  // a Ref<const VectorXd> is contiguous
  double* k = k_.data();  // A^-1 x

  // Sherman & Morrison 1950, applied to LinUCB's A_a += x x' (Li et al. 2010,
  // Alg. 1 line 12): (A + x x')^-1 = A^-1 - (A^-1 x)(A^-1 x)' / (1 + x'A^-1 x).
  // The O(d) steps are plain loops, two passes in all: at d = 32 the
  // overhead of five separate vector expressions was a tenth of the update.
  const UpdateKernels& kernels = update_kernels();
  kernels.product(A_inv, xs, dim_, k);
  const double prediction = dot(xs, theta, d);
  const double denominator = 1.0 + dot(xs, k, d);  // >= 1: A^-1 is positive definite
  // theta = A^-1 b after b += r x (Alg. 1 lines 8 and 13), by the same identity,
  // in recursive least squares form: theta += k (r - x'theta) / (1 + x'k).
  const double step = (reward - prediction) / denominator;
  const double scale = 1.0 / std::sqrt(denominator);  // one division, not d
  for (std::size_t i = 0; i < d; ++i) {
    theta[i] += k[i] * step;
    b[i] += reward * xs[i];
    k[i] *= scale;
  }
  kernels.subtract_outer(A_inv, k, dim_);
  if (single_) round_to_doubled_single(A_inv, dim_, A_inv_single_.data() + s * packed);
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

void DisjointRidge::save(ModelWriter& out) const {
  // The item of each slot; slots_ itself is unordered, so it is written as this array.
  std::vector<std::uint64_t> items(updates_.size());
  for (const auto& [item, s] : slots_) items[s] = item;
  out.put_u64(static_cast<std::uint64_t>(dim_));
  out.put_f64(ridge_);
  out.put_u64s(items);
  out.put_doubles(theta_);
  out.put_doubles(b_);
  out.put_doubles(A_inv_);
  out.put_u64s(updates_);
}

DisjointRidge DisjointRidge::load(ModelReader& in) {
  const std::uint64_t dim = in.get_u64("ridge dim");
  const double ridge = in.get_f64("ridge prior precision");
  if (dim < 1 || dim > kMaxFeatureDim) {
    throw Error("model data: ridge dim = " + std::to_string(dim) + ", need [1, " +
                std::to_string(kMaxFeatureDim) + "]");
  }
  if (!(std::isfinite(ridge) && ridge > 0.0)) {
    throw Error("model data: ridge = " + std::to_string(ridge) + ", need > 0");
  }
  DisjointRidge model(static_cast<int>(dim), ridge);
  const std::vector<std::uint64_t> items = in.get_u64s("ridge items");
  const std::size_t n = items.size();
  const auto read_doubles = [&](const char* what, std::size_t expected) {
    std::vector<double> values = in.get_doubles(what);
    if (values.size() != expected) {
      throw Error("model data: " + std::string(what) + " has " + std::to_string(values.size()) +
                  " values, expected " + std::to_string(expected));
    }
    return values;
  };
  model.theta_ = read_doubles("ridge theta", n * dim);
  model.b_ = read_doubles("ridge b", n * dim);
  model.A_inv_ = read_doubles("ridge A inverse", n * model.packed_size());
  model.updates_ = in.get_u64s("ridge update counts");
  if (model.updates_.size() != n) {
    throw Error("model data: ridge update counts has " + std::to_string(model.updates_.size()) +
                " values, expected " + std::to_string(n));
  }
  if (n > kNoSlot) throw Error("model data: too many ridge items");
  model.slots_.reserve(n);
  for (std::size_t s = 0; s < n; ++s) {
    if (!model.slots_.try_emplace(items[s], static_cast<std::uint32_t>(s)).second) {
      throw Error("model data: ridge item " + std::to_string(items[s]) + " appears twice");
    }
  }
  return model;
}

void DisjointRidge::update(const Context& context, ActionId action, double reward) {
  RECLOOP_CHECK(action < context.size(), "action outside the context");
  Eigen::VectorXd x(dim_);
  joint_features(context, action, x);
  update(context.items[action], x, reward);
}

void DisjointRidge::update_all(const Context& context, std::span<const double> targets) {
  RECLOOP_CHECK(targets.size() == context.size(), "one target per candidate is needed");
  RECLOOP_CHECK(context.feature_dim() == dim_ &&
                    static_cast<std::size_t>(context.actions.cols()) == context.size(),
                "update_all: context shape does not match the model");
  // joint_features() of every candidate: the user part is shared, so it is
  // copied once and only the item part per candidate.
  Eigen::VectorXd x(dim_);
  const auto user_dim = context.user.size();
  x.head(user_dim) = context.user;
  for (std::size_t a = 0; a < context.size(); ++a) {
    x.tail(dim_ - user_dim) = context.actions.col(static_cast<Eigen::Index>(a));
    update(context.items[a], x, targets[a]);
  }
}

DisjointRidge DisjointRidge::load(ModelReader& in, double ridge, std::string_view owner) {
  DisjointRidge model = load(in);
  if (model.ridge() != ridge) {
    throw Error("model data: " + std::string(owner) + " ridge = " + std::to_string(ridge) +
                " but its model was saved with ridge = " + std::to_string(model.ridge()));
  }
  return model;
}

}  // namespace recloop

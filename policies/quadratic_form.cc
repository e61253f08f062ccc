// SPDX-License-Identifier: Apache-2.0
#include "policies/quadratic_form.h"

#include <cassert>
#include <cstddef>

#include <Eigen/Dense>

#if defined(__GNUC__) && defined(__x86_64__)
#define RECLOOP_HAVE_AVX2_KERNEL 1
#include <immintrin.h>
#endif

namespace recloop {
namespace {

// Start of column j in the packed upper triangle (column j holds rows 0..j).
std::size_t column_offset(int j) { return static_cast<std::size_t>(j) * (j + 1) / 2; }

// Two doubles that Eigen keeps in one SIMD register where the target has one.
using Pair = Eigen::Array2d;
Pair load_pair(const double* p) { return Eigen::Map<const Pair, Eigen::Unaligned>(p); }

// The last n mod 4 columns, one at a time: x_j (2 sum_{i<j} M_ij x_i + M_jj x_j).
double remaining_columns(const double* m, const double* x, int first, int n) {
  double q = 0.0;
  for (int j = first; j < n; ++j) {
    const double* column = m + column_offset(j);
    double s = 0.0;
    for (int i = 0; i < j; ++i) s += column[i] * x[i];
    q += x[j] * (2.0 * s + column[j] * x[j]);
  }
  return q;
}

}  // namespace

double packed_quadratic_form_portable(const double* m, const double* x, int n) {
  // sum_j x_j (M_jj x_j + 2 sum_{i<j} M_ij x_i). Blocked: four columns at a
  // time share each load of x, and their four accumulators are independent
  // chains (a plain loop has one chain per column, which the compiler may not
  // reorder, so it stalls on the latency of every addition). The order of the
  // additions is fixed by the source, whatever the SIMD width.
  assert(n >= 1);
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
  return q + remaining_columns(m, x, j0, n);
}

void round_to_doubled_single(const double* m, int n, float* out) {
  for (int j = 0; j < n; ++j) {
    const double* column = m + column_offset(j);
    float* rounded = out + column_offset(j);
    for (int i = 0; i < j; ++i) rounded[i] = static_cast<float>(2.0 * column[i]);  // 2x: exact
    rounded[j] = static_cast<float>(column[j]);
  }
}

double single_quadratic_form_portable(const float* m, const double* x, int n) {
  // sum_j x_j sum_{i<=j} M'_ij x_i, two columns at a time (two chains).
  assert(n >= 1);
  double q0 = 0.0;
  double q1 = 0.0;
  int j = 0;
  for (; j + 2 <= n; j += 2) {
    const float* c0 = m + column_offset(j);
    const float* c1 = c0 + j + 1;
    double s0 = 0.0;
    double s1 = 0.0;
    for (int i = 0; i <= j; ++i) {
      s0 += static_cast<double>(c0[i]) * x[i];
      s1 += static_cast<double>(c1[i]) * x[i];
    }
    s1 += static_cast<double>(c1[j + 1]) * x[j + 1];
    q0 += x[j] * s0;
    q1 += x[j + 1] * s1;
  }
  if (j < n) {
    const float* c = m + column_offset(j);
    double s = 0.0;
    for (int i = 0; i <= j; ++i) s += static_cast<double>(c[i]) * x[i];
    q0 += x[j] * s;
  }
  return q0 + q1;
}

#ifdef RECLOOP_HAVE_AVX2_KERNEL

// The same blocks of four columns, four doubles per register, and nothing
// leaves the registers until one horizontal sum at the end (the portable
// kernel sums each block's accumulators separately, which costs as much as
// the multiply-adds at d = 32). For columns j0+k, k = 0..3:
//   a_k  = sum over rows i < j0 of M_{i,j0+k} x_i, lane-wise;
//   a_k <- 2 a_k + w_k * M_{j0..j0+3, j0+k} * x_{j0..j0+3}, where the weight
//          w_k is 2 above the diagonal, 1 on it and 0 below it;
//   u   += x_{j0+k} a_k.
// The diagonal block is read as four full vectors: rows below the diagonal of
// column j0+k (k < 3) are the first entries of the next columns, valid
// memory of the same matrix, and weighted 0. Weights 0, 1, 2 are exact, so
// the result is the quadratic form up to the rounding of the additions.
__attribute__((target("avx2,fma"))) double packed_quadratic_form_avx2(const double* m,
                                                                      const double* x, int n) {
  assert(n >= 1);
  const __m256d w0 = _mm256_setr_pd(1.0, 0.0, 0.0, 0.0);
  const __m256d w1 = _mm256_setr_pd(2.0, 1.0, 0.0, 0.0);
  const __m256d w2 = _mm256_setr_pd(2.0, 2.0, 1.0, 0.0);
  const __m256d w3 = _mm256_setr_pd(2.0, 2.0, 2.0, 1.0);
  const __m256d two = _mm256_set1_pd(2.0);
  // One accumulator per column of the block: four independent chains.
  __m256d u0 = _mm256_setzero_pd(), u1 = u0, u2 = u0, u3 = u0;
  int j0 = 0;
  for (; j0 + 4 <= n; j0 += 4) {
    const double* c0 = m + column_offset(j0);
    const double* c1 = c0 + j0 + 1;
    const double* c2 = c1 + j0 + 2;
    const double* c3 = c2 + j0 + 3;
    __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
    for (int i = 0; i < j0; i += 4) {  // rows above the block (j0 is a multiple of 4)
      const __m256d xi = _mm256_loadu_pd(x + i);
      a0 = _mm256_fmadd_pd(_mm256_loadu_pd(c0 + i), xi, a0);
      a1 = _mm256_fmadd_pd(_mm256_loadu_pd(c1 + i), xi, a1);
      a2 = _mm256_fmadd_pd(_mm256_loadu_pd(c2 + i), xi, a2);
      a3 = _mm256_fmadd_pd(_mm256_loadu_pd(c3 + i), xi, a3);
    }
    const __m256d xb = _mm256_loadu_pd(x + j0);
    a0 = _mm256_fmadd_pd(_mm256_mul_pd(_mm256_loadu_pd(c0 + j0), w0), xb, _mm256_mul_pd(two, a0));
    a1 = _mm256_fmadd_pd(_mm256_mul_pd(_mm256_loadu_pd(c1 + j0), w1), xb, _mm256_mul_pd(two, a1));
    a2 = _mm256_fmadd_pd(_mm256_mul_pd(_mm256_loadu_pd(c2 + j0), w2), xb, _mm256_mul_pd(two, a2));
    a3 = _mm256_fmadd_pd(_mm256_mul_pd(_mm256_loadu_pd(c3 + j0), w3), xb, _mm256_mul_pd(two, a3));
    u0 = _mm256_fmadd_pd(a0, _mm256_set1_pd(x[j0]), u0);
    u1 = _mm256_fmadd_pd(a1, _mm256_set1_pd(x[j0 + 1]), u1);
    u2 = _mm256_fmadd_pd(a2, _mm256_set1_pd(x[j0 + 2]), u2);
    u3 = _mm256_fmadd_pd(a3, _mm256_set1_pd(x[j0 + 3]), u3);
  }
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, _mm256_add_pd(_mm256_add_pd(u0, u1), _mm256_add_pd(u2, u3)));
  const double q = (lanes[0] + lanes[2]) + (lanes[1] + lanes[3]);
  return q + remaining_columns(m, x, j0, n);
}

namespace {
// Four floats widened exactly to doubles.
__attribute__((target("avx2,fma"), always_inline)) inline __m256d widen(const float* p) {
  return _mm256_cvtps_pd(_mm_loadu_ps(p));
}

// The doubled single-precision copy, blocks of four columns as above; each
// entry widened to double exactly (vcvtps2pd). No weights: column j0+k's
// diagonal block is read as four entries and multiplied by x_{j0..j0+3} with
// the lanes below the diagonal zeroed (a bit mask, off the multiply pipes):
//   a_k  = sum over rows i <= j0+k of M'_{i,j0+k} x_i,   u += x_{j0+k} a_k.
// kFixed > 0 is the dimension known at compile time (n is then ignored): all
// loops have fixed trip counts and unroll completely, without the branch
// misprediction per block that the short inner loops of varying length cost.
template <int kFixed>
__attribute__((target("avx2,fma"))) double single_avx2_kernel(const float* m, const double* x,
                                                              int runtime_n) {
  const int n = kFixed > 0 ? kFixed : runtime_n;
  assert(n >= 1);
  const __m256d k0 = _mm256_castsi256_pd(_mm256_setr_epi64x(-1, 0, 0, 0));
  const __m256d k1 = _mm256_castsi256_pd(_mm256_setr_epi64x(-1, -1, 0, 0));
  const __m256d k2 = _mm256_castsi256_pd(_mm256_setr_epi64x(-1, -1, -1, 0));
  __m256d u0 = _mm256_setzero_pd(), u1 = u0, u2 = u0, u3 = u0;
  int j0 = 0;
#pragma GCC unroll 32
  for (; j0 + 4 <= n; j0 += 4) {
    const float* c0 = m + column_offset(j0);
    const float* c1 = c0 + j0 + 1;
    const float* c2 = c1 + j0 + 2;
    const float* c3 = c2 + j0 + 3;
    __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
#pragma GCC unroll 32
    for (int i = 0; i < j0; i += 4) {  // rows above the block (j0 is a multiple of 4)
      const __m256d xi = _mm256_loadu_pd(x + i);
      a0 = _mm256_fmadd_pd(widen(c0 + i), xi, a0);
      a1 = _mm256_fmadd_pd(widen(c1 + i), xi, a1);
      a2 = _mm256_fmadd_pd(widen(c2 + i), xi, a2);
      a3 = _mm256_fmadd_pd(widen(c3 + i), xi, a3);
    }
    const __m256d xb = _mm256_loadu_pd(x + j0);
    a0 = _mm256_fmadd_pd(widen(c0 + j0), _mm256_and_pd(xb, k0), a0);
    a1 = _mm256_fmadd_pd(widen(c1 + j0), _mm256_and_pd(xb, k1), a1);
    a2 = _mm256_fmadd_pd(widen(c2 + j0), _mm256_and_pd(xb, k2), a2);
    a3 = _mm256_fmadd_pd(widen(c3 + j0), xb, a3);
    u0 = _mm256_fmadd_pd(a0, _mm256_set1_pd(x[j0]), u0);
    u1 = _mm256_fmadd_pd(a1, _mm256_set1_pd(x[j0 + 1]), u1);
    u2 = _mm256_fmadd_pd(a2, _mm256_set1_pd(x[j0 + 2]), u2);
    u3 = _mm256_fmadd_pd(a3, _mm256_set1_pd(x[j0 + 3]), u3);
  }
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, _mm256_add_pd(_mm256_add_pd(u0, u1), _mm256_add_pd(u2, u3)));
  double q = (lanes[0] + lanes[2]) + (lanes[1] + lanes[3]);
  for (int j = j0; j < n; ++j) {  // the last n mod 4 columns
    const float* column = m + column_offset(j);
    double s = 0.0;
    for (int i = 0; i <= j; ++i) s += static_cast<double>(column[i]) * x[i];
    q += x[j] * s;
  }
  return q;
}

}  // namespace

double single_quadratic_form_avx2(const float* m, const double* x, int n) {
  switch (n) {
    case 16:
      return single_avx2_kernel<16>(m, x, n);
    case 32:
      return single_avx2_kernel<32>(m, x, n);
    default:
      return single_avx2_kernel<0>(m, x, n);
  }
}

bool has_avx2_quadratic_form() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

#else

double packed_quadratic_form_avx2(const double* m, const double* x, int n) {
  assert(false && "packed_quadratic_form_avx2 is not built for this target");
  return packed_quadratic_form_portable(m, x, n);
}

double single_quadratic_form_avx2(const float* m, const double* x, int n) {
  assert(false && "single_quadratic_form_avx2 is not built for this target");
  return single_quadratic_form_portable(m, x, n);
}

bool has_avx2_quadratic_form() { return false; }

#endif

double packed_quadratic_form(const double* m, const double* x, int n) {
  using Kernel = double (*)(const double*, const double*, int);
  // Chosen once per process, from the CPU alone.
  static const Kernel kernel =
      has_avx2_quadratic_form() ? packed_quadratic_form_avx2 : packed_quadratic_form_portable;
  return kernel(m, x, n);
}

double single_quadratic_form(const float* m, const double* x, int n) {
  using Kernel = double (*)(const float*, const double*, int);
  static const Kernel kernel =
      has_avx2_quadratic_form() ? single_quadratic_form_avx2 : single_quadratic_form_portable;
  return kernel(m, x, n);
}

}  // namespace recloop

// SPDX-License-Identifier: Apache-2.0
// x' M x for a symmetric d x d matrix M stored as its packed upper triangle,
// column by column (column j holds rows 0..j, so column j starts at j(j+1)/2):
// the width sqrt(x' A^-1 x) of every linear-bandit score, once per candidate.
// d(d+1)/2 multiply-adds per call; at d = 32 and 100 candidates this is most
// of a LinUCB decision, hence two kernels:
//   - a portable one (SSE2 on x86-64, the baseline every build can assume),
//   - one compiled for AVX2 + FMA only (no -march flag for the rest of the
//     build), used when the CPU has those instructions.
// The choice is made once per process from the CPU (a fact of the machine,
// not state). Each kernel adds in an order fixed by its source, so a given
// kernel returns the same bits for the same inputs on every run; the two
// kernels differ in the last bits (FMA rounds once per multiply-add), so
// results are reproducible bit for bit on one machine, and within ~1e-15
// relative between machines with and without AVX2.
//
// The same form for M held in single precision, as a rounded copy laid out
// for the kernel ("doubled"): the packed upper triangle as above with every
// entry above the diagonal stored times two, M'_ij = fl(2 M_ij) for i < j,
// M'_jj = fl(M_jj), so that x'Mx = sum_j x_j sum_{i<=j} M'_ij x_i with no
// weights left to apply. Doubling is exact, so each stored entry is M_ij
// rounded once: |fl(M_ij) - M_ij| <= 2^-24 |M_ij| (round to nearest). The
// entries are widened to double exactly and the arithmetic is in double, so
//   |x'M~x - x'Mx| <= 2^-24 x'|M|x + (d + 2) 2^-53 x'|M|x,
// |M| taken entrywise (the second term is the double kernel's own rounding,
// a sum of at most d + 2 roundings per term). It reads half the bytes, which
// is what a width over many candidates' matrices waits on.
// Thread-safe.
#pragma once

namespace recloop {

// Preconditions: n >= 1; `m` holds n(n+1)/2 doubles, `x` n doubles.
double packed_quadratic_form(const double* m, const double* x, int n);

// The two kernels, for tests and benchmarks. The AVX2 one may only be called
// when has_avx2_quadratic_form() is true.
double packed_quadratic_form_portable(const double* m, const double* x, int n);
double packed_quadratic_form_avx2(const double* m, const double* x, int n);
bool has_avx2_quadratic_form();

// Writes the doubled single-precision copy of the packed triangle `m`
// (n(n+1)/2 doubles) to `out` (n(n+1)/2 floats). Deterministic: round to
// nearest, entry by entry.
void round_to_doubled_single(const double* m, int n, float* out);

// x'Mx from the doubled single-precision copy `m` (n(n+1)/2 floats), x n
// doubles, n >= 1. Kernels chosen as above; the AVX2 one only when
// has_avx2_quadratic_form().
double single_quadratic_form(const float* m, const double* x, int n);
double single_quadratic_form_portable(const float* m, const double* x, int n);
double single_quadratic_form_avx2(const float* m, const double* x, int n);

}  // namespace recloop

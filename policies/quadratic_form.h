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

}  // namespace recloop

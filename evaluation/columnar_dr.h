// SPDX-License-Identifier: Apache-2.0
// DR over interactions already reduced to columns (struct of arrays), the
// fast path for evaluating one target over a large in-memory log: 32 bytes
// per interaction, read once, so the speed is set by memory bandwidth.
//
// Reproducibility: the sum runs in fixed blocks with fixed lanes, so the same
// columns in the same order give the same bits on any run; a different row
// order may change the last bits (relative ~1e-16·sqrt(n)). The streaming
// estimators (doubly_robust.h, exact_sum.h) are the order-independent path.
#pragma once

#include <span>

#include "evaluation/estimator.h"

namespace recloop {

// One entry per interaction, all the same length.
struct DrColumns {
  std::span<const double> weight;             // π(a_i|x_i)/μ(a_i|x_i)
  std::span<const double> reward;             // r_i
  std::span<const double> logged_prediction;  // r̂(x_i, a_i)
  std::span<const double> direct;             // Σ_a π(a|x_i) r̂(x_i, a)
};

// Mean of d_i + w_i (r_i - r̂_i) (Dudík, Langford & Li 2011, eq. 2) with the
// normal interval of mean_estimate(). Throws std::invalid_argument if the
// columns differ in length. Values must be finite (not checked).
Estimate columnar_doubly_robust(const DrColumns& columns, double alpha = 0.05);

}  // namespace recloop

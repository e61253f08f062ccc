// SPDX-License-Identifier: Apache-2.0
// Draws from the posteriors of the Thompson-sampling policies, built on the
// engine's raw output like core/sampling.h (never std::*_distribution, whose
// algorithms are implementation-defined), so every draw is specified bit for
// bit by this file and the seed.
#pragma once

#include "core/rng.h"

namespace recloop {

struct ZigguratTable;

// Standard normals from one engine by the ziggurat method (Marsaglia & Tsang
// 2000, "The ziggurat method for generating random variables", J. Stat.
// Softw. 5(8)), 128 layers. One engine output per draw about 99% of the
// time: its low 7 bits pick the layer and its top 53 bits the position in it
// (separate bits, which avoids the correlation Doornik 2005 found in the
// original's reuse of bits). Exact in distribution; several times cheaper
// than a Box–Muller draw (a logarithm, a square root and a cosine), which
// matters because the Monte Carlo pmfs take K x draws normals per request.
// The sequence is a function of the engine's state alone. Holds a reference
// to `rng`, which must outlive it.
class NormalStream {
 public:
  explicit NormalStream(Rng& rng);
  double next();
  Rng& rng() { return rng_; }

 private:
  Rng& rng_;
  const ZigguratTable* table_;  // immutable, shared: built once per process
};

// Gamma(shape, 1) (density x^(shape-1) e^-x / Gamma(shape)), shape > 0 and
// finite (asserted). Marsaglia & Tsang 2000, "A simple method for generating
// gamma variables", ACM TOMS 26(3): squeeze-and-reject on a cubed normal for
// shape >= 1, and Gamma(shape + 1) * U^(1/shape) below 1. Uniforms come from
// normals.rng(). Can return 0 when shape is small (U^(1/shape) underflows);
// sample_beta() works in logarithms to stay exact there.
double sample_gamma(NormalStream& normals, double shape);

// Beta(a, b) = X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b) independent, drawn
// in that order; a, b > 0 and finite (asserted). In [0, 1].
double sample_beta(NormalStream& normals, double a, double b);

}  // namespace recloop

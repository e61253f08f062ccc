// SPDX-License-Identifier: Apache-2.0
// Draws from the posteriors of the Thompson-sampling policies, built on the
// engine's raw output like core/sampling.h (never std::*_distribution, whose
// algorithms are implementation-defined), so every draw is specified bit for
// bit by this file and the seed.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>

#include "core/rng.h"

namespace recloop {

struct ZigguratTable;

// Standard normals by the ziggurat method (Marsaglia & Tsang 2000, "The
// ziggurat method for generating random variables", J. Stat. Softw. 5(8)),
// 128 layers, from the stream's own FastRng (core/rng.h: xoshiro256++). One
// engine output per draw about 99% of the time: its low 7 bits pick the
// layer and its top 53 bits the position in it (separate bits, which avoids
// the correlation Doornik 2005 found in the original's reuse of bits). Exact
// in distribution; several times cheaper than a Box–Muller draw (a logarithm,
// a square root and a cosine), which matters because the Monte Carlo pmfs
// take K x draws normals per request. That common case is inline; the
// wedges and the tail are not. The sequence is a function of the seed alone.
class NormalStream {
 public:
  // The engine is FastRng(seed).
  explicit NormalStream(std::uint64_t seed);
  // The engine is seeded with one output of `rng` (which is not kept).
  explicit NormalStream(Rng& rng);

  double next() {
    const std::uint64_t bits = rng_();
    const int i = static_cast<int>(bits & 127);
    // Uniform across layer i, signed: (2 u - 1) x_i with u from the top 53 bits.
    const double z = (2.0 * (static_cast<double>(bits >> 11) * 0x1.0p-53) - 1.0) * x_[i];
    // Inside the next layer's width: under the density whatever the height.
    if (std::abs(z) < x_[i + 1]) return z;
    return outside_core(i, z);
  }
  // out.size() draws at once, the same as as many calls of next(): the
  // engine's state stays in registers across the batch instead of going
  // through memory between draws.
  void fill(std::span<double> out);
  FastRng& rng() { return rng_; }

 private:
  // The rest of one ziggurat draw whose first point z in layer i fell
  // outside the core: the tail or wedge test, then fresh draws until one is accepted.
  double outside_core(int i, double z);

  FastRng rng_;
  const double* x_;             // the layers' widths x_0 .. x_128 (ZigguratTable)
  const ZigguratTable* table_;  // immutable, shared: built once per process
};

// Gamma(shape, 1) (density x^(shape-1) e^-x / Gamma(shape)), shape > 0 and
// finite (asserted), by Marsaglia & Tsang 2000, "A simple method for
// generating gamma variables", ACM TOMS 26(3): squeeze-and-reject on a cubed
// normal for shape >= 1, and Gamma(shape + 1) * U^(1/shape) below 1. The
// constants of the method (d = shape - 1/3, c = 1/sqrt(9d)) depend on the
// shape alone, so a sampler holds them for many draws of one shape (a Monte
// Carlo pmf draws every candidate's posterior `draws` times). Uniforms come
// from normals.rng(). A draw can be 0 when shape is small (U^(1/shape)
// underflows); log_draw() works in logarithms to stay exact there.
class GammaSampler {
 public:
  explicit GammaSampler(double shape);
  double operator()(NormalStream& normals) const;
  double log_draw(NormalStream& normals) const;  // ln of one draw
  double shape() const { return shape_; }

 private:
  double at_least_one(NormalStream& normals) const;  // Gamma(shape), or Gamma(shape + 1) below 1
  double shape_;
  double d_;  // Marsaglia & Tsang's d and c, for shape (or shape + 1 below 1)
  double c_;
};

// Beta(a, b) = X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b) independent, drawn
// in that order; a, b > 0 and finite (asserted). In [0, 1].
class BetaSampler {
 public:
  BetaSampler(double a, double b) : x_(a), y_(b) {}
  double operator()(NormalStream& normals) const;

 private:
  GammaSampler x_;
  GammaSampler y_;
};

// One draw each, for a shape used once: GammaSampler(shape)(normals) and
// BetaSampler(a, b)(normals).
double sample_gamma(NormalStream& normals, double shape);
double sample_beta(NormalStream& normals, double a, double b);

}  // namespace recloop

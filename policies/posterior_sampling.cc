// SPDX-License-Identifier: Apache-2.0
#include "policies/posterior_sampling.h"

#include <cassert>
#include <cmath>
#include <cstdint>

#include "core/sampling.h"

namespace recloop {
namespace {

// Uniform on (0, 1]: safe to take the logarithm of.
double open_uniform(Rng& rng) { return 1.0 - uniform01(rng); }

// Marsaglia & Tsang 2000, sec. 2, for shape >= 1: with d = shape - 1/3,
// c = 1 / sqrt(9d), x standard normal and v = (1 + c x)^3 > 0, accept d v
// when u < 1 - 0.0331 x^4 (the squeeze, which spares the logarithm most of
// the time) or ln u < x^2 / 2 + d (1 - v + ln v).
double gamma_at_least_one(NormalStream& normals, double shape) {
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x = 0.0;
    double v = 0.0;
    do {
      x = normals.next();
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = open_uniform(normals.rng());
    const double x2 = x * x;
    if (u < 1.0 - 0.0331 * x2 * x2) return d * v;
    if (std::log(u) < 0.5 * x2 + d * (1.0 - v + std::log(v))) return d * v;
  }
}

// ln of a Gamma(shape) draw. Below 1, Marsaglia & Tsang's boost
// Gamma(shape) = Gamma(shape + 1) U^(1/shape), taken in logarithms so that a
// tiny U does not underflow to a draw of exactly 0.
double log_gamma_draw(NormalStream& normals, double shape) {
  if (shape >= 1.0) return std::log(gamma_at_least_one(normals, shape));
  const double g = gamma_at_least_one(normals, shape + 1.0);
  return std::log(g) + std::log(open_uniform(normals.rng())) / shape;
}

}  // namespace

// The ziggurat's layers (Marsaglia & Tsang 2000, sec. 2 and their table
// code, for f(x) = exp(-x^2 / 2) and 128 layers of equal area v): layer 0 is
// the base strip [0, r] x [0, f(r)] plus the tail beyond r; layer i >= 1 is
// [0, x_i] x [f(x_i), f(x_{i+1})]. x_1 = r, x_{i+1} = f^-1(f(x_i) + v / x_i),
// x_128 = 0, and x_0 = v / f(r) is the width the base strip would need to
// hold the tail's area too.
struct ZigguratTable {
  static constexpr int kLayers = 128;
  static constexpr double kTailStart = 3.442619855899;       // r
  static constexpr double kLayerArea = 9.91256303526217e-3;  // v
  double x[kLayers + 1];
  double f[kLayers + 1];  // f(x_i)

  ZigguratTable() {
    const auto density = [](double t) { return std::exp(-0.5 * t * t); };
    x[0] = kLayerArea / density(kTailStart);
    x[1] = kTailStart;
    for (int i = 2; i < kLayers; ++i) {
      x[i] = std::sqrt(-2.0 * std::log(density(x[i - 1]) + kLayerArea / x[i - 1]));
    }
    x[kLayers] = 0.0;
    for (int i = 0; i <= kLayers; ++i) f[i] = density(x[i]);
  }
};

NormalStream::NormalStream(Rng& rng) : rng_(rng) {
  static const ZigguratTable table;  // a constant of the method, built on first use
  table_ = &table;
}

double NormalStream::next() {
  const ZigguratTable& t = *table_;
  for (;;) {
    const std::uint64_t bits = rng_();
    const int i = static_cast<int>(bits & (ZigguratTable::kLayers - 1));
    const double z = (2.0 * uniform01(bits) - 1.0) * t.x[i];  // uniform across layer i, signed
    // Inside the next layer's width: under the density whatever the height.
    if (std::abs(z) < t.x[i + 1]) return z;
    if (i == 0) {
      // The tail beyond r (Marsaglia 1964): a = -ln(U1) / r, b = -ln(U2),
      // accepted when 2b > a^2; then r + a has the normal tail's law.
      double a = 0.0;
      double b = 0.0;
      do {
        a = -std::log(open_uniform(rng_)) / ZigguratTable::kTailStart;
        b = -std::log(open_uniform(rng_));
      } while (b + b < a * a);
      return z < 0.0 ? -(ZigguratTable::kTailStart + a) : ZigguratTable::kTailStart + a;
    }
    // The wedge of layer i: accept z when a uniform height under the layer
    // falls under the density.
    const double y = t.f[i] + uniform01(rng_) * (t.f[i + 1] - t.f[i]);
    if (y < std::exp(-0.5 * z * z)) return z;
  }
}

double sample_gamma(NormalStream& normals, double shape) {
  assert(shape > 0.0 && std::isfinite(shape));
  if (shape >= 1.0) return gamma_at_least_one(normals, shape);
  return gamma_at_least_one(normals, shape + 1.0) *
         std::pow(open_uniform(normals.rng()), 1.0 / shape);
}

double sample_beta(NormalStream& normals, double a, double b) {
  assert(a > 0.0 && std::isfinite(a) && b > 0.0 && std::isfinite(b));
  if (a >= 1.0 && b >= 1.0) {
    // Both draws are d v > 0 with d >= 2/3: no underflow, the direct ratio is exact.
    const double x = gamma_at_least_one(normals, a);
    const double y = gamma_at_least_one(normals, b);
    return x / (x + y);
  }
  // X / (X + Y) = 1 / (1 + exp(ln Y - ln X)), finite whatever the magnitudes.
  const double log_x = log_gamma_draw(normals, a);
  const double log_y = log_gamma_draw(normals, b);
  return 1.0 / (1.0 + std::exp(log_y - log_x));
}

}  // namespace recloop

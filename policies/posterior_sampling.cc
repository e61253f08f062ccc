// SPDX-License-Identifier: Apache-2.0
#include "policies/posterior_sampling.h"

#include <cassert>
#include <cmath>
#include <cstdint>

#include "core/sampling.h"

namespace recloop {
namespace {

// Uniform on (0, 1]: safe to take the logarithm of.
double open_uniform(FastRng& rng) { return 1.0 - uniform01(rng()); }

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

namespace {
const ZigguratTable& ziggurat_table() {
  static const ZigguratTable table;  // a constant of the method, built on first use
  return table;
}
}  // namespace

NormalStream::NormalStream(std::uint64_t seed)
    : rng_(seed), x_(ziggurat_table().x), table_(&ziggurat_table()) {}

NormalStream::NormalStream(Rng& rng) : NormalStream(rng()) {}

void NormalStream::fill(std::span<double> out) {
  FastRng rng = rng_;  // a local copy whose address never escapes
  const double* x = x_;
  for (double& draw : out) {
    // next(), on the local engine.
    const std::uint64_t bits = rng();
    const int i = static_cast<int>(bits & 127);
    const double z = (2.0 * (static_cast<double>(bits >> 11) * 0x1.0p-53) - 1.0) * x[i];
    if (std::abs(z) < x[i + 1]) {
      draw = z;
      continue;
    }
    rng_ = rng;  // the rare rest of the draw goes through the member engine
    draw = outside_core(i, z);
    rng = rng_;
  }
  rng_ = rng;
}

double NormalStream::outside_core(int i, double z) {
  static_assert(ZigguratTable::kLayers == 128, "next() takes the layer from 7 bits");
  const ZigguratTable& t = *table_;
  for (;;) {
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
    const double y = t.f[i] + uniform01(rng_()) * (t.f[i + 1] - t.f[i]);
    if (y < std::exp(-0.5 * z * z)) return z;
    // Rejected: a fresh point, as in next().
    const std::uint64_t bits = rng_();
    i = static_cast<int>(bits & (ZigguratTable::kLayers - 1));
    z = (2.0 * uniform01(bits) - 1.0) * t.x[i];
    if (std::abs(z) < t.x[i + 1]) return z;
  }
}

GammaSampler::GammaSampler(double shape) : shape_(shape) {
  assert(shape > 0.0 && std::isfinite(shape));
  // Below 1, Marsaglia & Tsang's boost draws Gamma(shape + 1) (sec. 6).
  d_ = (shape >= 1.0 ? shape : shape + 1.0) - 1.0 / 3.0;
  c_ = 1.0 / std::sqrt(9.0 * d_);
}

// Marsaglia & Tsang 2000, sec. 2, for shape >= 1: with x standard normal and
// v = (1 + c x)^3 > 0, accept d v when u < 1 - 0.0331 x^4 (the squeeze, which
// spares the logarithm most of the time) or ln u < x^2 / 2 + d (1 - v + ln v).
double GammaSampler::at_least_one(NormalStream& normals) const {
  for (;;) {
    double x = 0.0;
    double v = 0.0;
    do {
      x = normals.next();
      v = 1.0 + c_ * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = open_uniform(normals.rng());
    const double x2 = x * x;
    if (u < 1.0 - 0.0331 * x2 * x2) return d_ * v;
    if (std::log(u) < 0.5 * x2 + d_ * (1.0 - v + std::log(v))) return d_ * v;
  }
}

double GammaSampler::operator()(NormalStream& normals) const {
  if (shape_ >= 1.0) return at_least_one(normals);
  const double g = at_least_one(normals);
  return g * std::pow(open_uniform(normals.rng()), 1.0 / shape_);
}

// Below 1, Gamma(shape) = Gamma(shape + 1) U^(1/shape), taken in logarithms
// so that a tiny U does not underflow to a draw of exactly 0.
double GammaSampler::log_draw(NormalStream& normals) const {
  if (shape_ >= 1.0) return std::log(at_least_one(normals));
  const double g = at_least_one(normals);
  return std::log(g) + std::log(open_uniform(normals.rng())) / shape_;
}

double BetaSampler::operator()(NormalStream& normals) const {
  if (x_.shape() >= 1.0 && y_.shape() >= 1.0) {
    // Both draws are d v > 0 with d >= 2/3: no underflow, the direct ratio is exact.
    const double x = x_(normals);
    const double y = y_(normals);
    return x / (x + y);
  }
  // X / (X + Y) = 1 / (1 + exp(ln Y - ln X)), finite whatever the magnitudes.
  const double log_x = x_.log_draw(normals);
  const double log_y = y_.log_draw(normals);
  return 1.0 / (1.0 + std::exp(log_y - log_x));
}

double sample_gamma(NormalStream& normals, double shape) { return GammaSampler(shape)(normals); }

double sample_beta(NormalStream& normals, double a, double b) {
  assert(a > 0.0 && std::isfinite(a) && b > 0.0 && std::isfinite(b));
  return BetaSampler(a, b)(normals);
}

}  // namespace recloop

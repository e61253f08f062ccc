// SPDX-License-Identifier: Apache-2.0
#include "core/sampling.h"

#include <cassert>
#include <cmath>
#include <numbers>

namespace recloop {
namespace {
__extension__ typedef unsigned __int128 Uint128;
}  // namespace

double uniform01(std::uint64_t bits) {
  // Top 53 bits scaled by 2^-53: every double in [0, 1) with spacing 2^-53.
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

double uniform01(Rng& rng) { return uniform01(rng()); }

std::uint64_t uniform_index(Rng& rng, std::uint64_t n) {
  // Lemire 2019, "Fast Random Integer Generation in an Interval", Alg. 5.
  assert(n >= 1);
  Uint128 m = static_cast<Uint128>(rng()) * n;
  auto low = static_cast<std::uint64_t>(m);
  if (low < n) {
    const std::uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<Uint128>(rng()) * n;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

double standard_normal(Rng& rng) {
  // Box & Muller 1958: sqrt(-2 ln u1) cos(2 pi u2), with u1 in (0, 1].
  const double u1 = 1.0 - uniform01(rng);
  const double u2 = uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

int bernoulli(Rng& rng, double p) { return uniform01(rng) < p ? 1 : 0; }

std::size_t sample_index(std::span<const double> pmf, double u) {
  assert(!pmf.empty());
  double total = 0.0;
  std::size_t last_positive = 0;
  for (std::size_t i = 0; i < pmf.size(); ++i) {
    if (pmf[i] <= 0.0) continue;
    total += pmf[i];
    last_positive = i;
    if (u < total) return i;
  }
  return last_positive;
}

std::size_t sample_index(std::span<const double> pmf, std::uint64_t seed) {
  // One splitmix64 step of the seed is the uniform: cheap, and fully specified.
  return sample_index(pmf, uniform01(splitmix64(seed)));
}

}  // namespace recloop

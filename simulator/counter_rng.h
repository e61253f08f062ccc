// SPDX-License-Identifier: Apache-2.0
// A small counter-based generator for per-request randomness. Every request
// of a world owns its own stream, seeded by stream_seed(world seed, request
// index) (core/rng.h), so a request's draws depend only on the world seed and
// its index: not on the order requests are served in, nor on how many threads
// serve them. Seeding costs one hash (a std::mt19937_64 costs 312 words of
// state), which is what makes a fresh stream per request affordable.
//
// The stream is splitmix64 (Steele, Lea & Flood 2014): state += golden gamma,
// output = mix(state). Uniforms use the top 53 bits (core/sampling.h's
// uniform01(bits)); integers in [0, n) Lemire's multiply-and-reject; normals
// the Marsaglia polar method, both outputs used. Every sampler is specified
// here bit for bit, so draws replay on any compiler and library.
// Not thread-safe; one generator per request and thread.
#pragma once

#include <cassert>
#include <cmath>
#include <cstdint>

#include "core/rng.h"
#include "core/sampling.h"

namespace recloop {

class CounterRng {
 public:
  explicit CounterRng(std::uint64_t seed) : state_(seed) {}

  // The next 64 random bits.
  std::uint64_t next() {
    state_ += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  // Uniform on [0, 1), 53 bits.
  double uniform01() { return recloop::uniform01(next()); }

  // Uniform integer in [0, n), n >= 1, unbiased (Lemire 2019, Alg. 5).
  std::uint64_t index(std::uint64_t n) {
    assert(n >= 1);
    __extension__ typedef unsigned __int128 Uint128;
    Uint128 m = static_cast<Uint128>(next()) * n;
    auto low = static_cast<std::uint64_t>(m);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<Uint128>(next()) * n;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  // Standard normal (Marsaglia & Bray 1964, the polar method): accept (x, y)
  // uniform in the unit disc, return x * sqrt(-2 ln s / s) and keep
  // y * sqrt(-2 ln s / s) for the next call.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double x = 0.0, y = 0.0, s = 0.0;
    do {
      x = 2.0 * uniform01() - 1.0;
      y = 2.0 * uniform01() - 1.0;
      s = x * x + y * y;
    } while (s >= 1.0 || s == 0.0);
    const double factor = std::sqrt(-2.0 * std::log(s) / s);
    spare_ = y * factor;
    has_spare_ = true;
    return x * factor;
  }

 private:
  std::uint64_t state_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace recloop

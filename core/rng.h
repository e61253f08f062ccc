// SPDX-License-Identifier: Apache-2.0
// Randomness: one engine type, passed explicitly, and specified hashes for
// deriving seeds. std::mt19937_64's output sequence is fixed by the standard,
// so the same seed gives the same draws with any compiler or library.
#pragma once

#include <array>
#include <cstdint>
#include <random>
#include <string_view>

namespace recloop {

using Rng = std::mt19937_64;

// splitmix64 finaliser (Steele, Lea & Flood 2014): a bijective 64-bit mixer.
constexpr std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// 64-bit FNV-1a of the bytes of `text`.
constexpr std::uint64_t fnv1a64(std::string_view text) {
  std::uint64_t hash = 0xCBF29CE484222325ULL;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001B3ULL;
  }
  return hash;
}

// The seed of one decision: depends only on the run seed and the event id, so
// a decision replays exactly wherever and whenever it is recomputed.
constexpr std::uint64_t decision_seed(std::uint64_t run_seed, std::string_view event_id) {
  return splitmix64(fnv1a64(event_id) ^ splitmix64(run_seed));
}

// The engine of the Monte Carlo loops (posterior draws: 10^5 numbers per
// decision), where mt19937_64's block refill was a third of the time:
// xoshiro256++ 1.0 (Blackman & Vigna 2021, "Scrambled linear pseudorandom
// number generators", ACM TOMS 47(4), article 36), 256 bits of state, period
// 2^256 - 1, a handful of instructions per 64-bit output. Seeded as its
// authors recommend, with four consecutive outputs of a splitmix64 generator
// started at `seed` (s_i = splitmix64(seed + i 0x9E3779B97F4A7C15)), which
// are never all zero. Like Rng, its output sequence is fixed by this
// definition alone, on every machine. Satisfies UniformRandomBitGenerator.
class FastRng {
 public:
  using result_type = std::uint64_t;

  explicit constexpr FastRng(std::uint64_t seed)
      : s_{splitmix64(seed), splitmix64(seed + 0x9E3779B97F4A7C15ULL),
           splitmix64(seed + 2 * 0x9E3779B97F4A7C15ULL),
           splitmix64(seed + 3 * 0x9E3779B97F4A7C15ULL)} {}
  // A given state (not all zero), for tests against hand-computed outputs.
  static constexpr FastRng from_state(const std::array<std::uint64_t, 4>& state) {
    FastRng rng(0);
    rng.s_ = state;
    return rng;
  }

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~std::uint64_t{0}; }

  // Blackman & Vigna 2021, xoshiro256++: output rotl(s0 + s3, 23) + s0, then
  // the xorshift step of the state.
  constexpr result_type operator()() {
    const std::uint64_t result = rotl(s_[0] + s_[3], 23) + s_[0];
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<std::uint64_t, 4> s_;
};

// Seed of the `index`-th independent stream derived from `seed` (counter-based:
// stream i is the same whatever order or thread it is drawn in).
constexpr std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t index) {
  return splitmix64(splitmix64(seed) + splitmix64(index ^ 0xA5A5A5A5A5A5A5A5ULL));
}

}  // namespace recloop

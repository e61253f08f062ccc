// SPDX-License-Identifier: Apache-2.0
// Randomness: one engine type, passed explicitly, and specified hashes for
// deriving seeds. std::mt19937_64's output sequence is fixed by the standard,
// so the same seed gives the same draws with any compiler or library.
#pragma once

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

// Seed of the `index`-th independent stream derived from `seed` (counter-based:
// stream i is the same whatever order or thread it is drawn in).
constexpr std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t index) {
  return splitmix64(splitmix64(seed) + splitmix64(index ^ 0xA5A5A5A5A5A5A5A5ULL));
}

}  // namespace recloop

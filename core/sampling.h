// SPDX-License-Identifier: Apache-2.0
// Our own samplers. The std:: distributions are implementation-defined, so a
// draw made with them could differ between machines; these are specified here
// bit for bit on top of the engine's raw 64-bit output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/rng.h"

namespace recloop {

// Uniform on [0, 1) with 53 random bits (the top bits of one engine output).
double uniform01(Rng& rng);
double uniform01(std::uint64_t bits);

// Uniform integer in [0, n), n >= 1, unbiased (Lemire's multiply-and-reject).
std::uint64_t uniform_index(Rng& rng, std::uint64_t n);

// Standard normal by the Box–Muller transform (two uniforms per draw; the
// second normal is discarded so every call consumes exactly two outputs).
double standard_normal(Rng& rng);

// 1 with probability p, else 0. p outside [0, 1] is clamped.
int bernoulli(Rng& rng, double p);

// Inverse-CDF sampling: the smallest index i with u < pmf[0] + ... + pmf[i],
// u in [0, 1). Entries with zero mass are never returned; if rounding leaves u
// above the running total, the last index with positive mass is returned.
// Precondition: pmf non-empty, non-negative, with positive total.
std::size_t sample_index(std::span<const double> pmf, double u);

// One draw from `pmf` seeded by `seed` alone (a fresh engine per decision).
std::size_t sample_index(std::span<const double> pmf, std::uint64_t seed);

}  // namespace recloop

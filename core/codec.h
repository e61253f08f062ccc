// SPDX-License-Identifier: Apache-2.0
// Compact binary encodings shared by the wire protocol and the event log.
// Layout (all little-endian, IEEE-754 doubles):
//   doubles:  n x f64, nothing else (length = 8n bytes)
//   context:  u32 user_dim, u32 action_dim, u32 n_candidates,
//             user_dim x f64, action_dim*n_candidates x f64 (column-major),
//             n_candidates x u64 item ids
// Decoders return std::nullopt on any malformed input (wrong length, dimension
// over the limits, non-finite features): bad bytes are expected input.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"

namespace recloop {

// Largest dimensions a decoder accepts; guards against absurd allocations.
inline constexpr std::uint32_t kMaxFeatureDim = 1u << 16;
inline constexpr std::uint32_t kMaxCandidates = 1u << 20;

std::string encode_doubles(std::span<const double> values);
std::optional<std::vector<double>> decode_doubles(std::string_view bytes);

// Decodes into `out`, reusing its storage: no allocation when `out` already
// has the capacity (a reader that reuses one vector per row allocates once).
// Returns false on malformed input, with `out` then unspecified.
bool decode_doubles_into(std::string_view bytes, std::vector<double>& out);

std::string encode_context(const Context& context);
std::optional<Context> decode_context(std::string_view bytes);
// As decode_context, into `out`, reusing its storage: no allocation when the
// dimensions repeat from the previous row. Returns false on malformed input,
// with `out` then unspecified.
bool decode_context_into(std::string_view bytes, Context& out);

}  // namespace recloop

// SPDX-License-Identifier: Apache-2.0
#include "core/codec.h"

#include <bit>
#include <cmath>
#include <cstring>

namespace recloop {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the codec writes native bytes and assumes a little-endian host");

template <typename T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

template <typename T>
T get(const char*& cursor) {
  T value;
  std::memcpy(&value, cursor, sizeof(T));
  cursor += sizeof(T);
  return value;
}

// True when every one of the n doubles at `bytes` is finite. A double is not
// finite exactly when its 11 exponent bits are all ones; adding 1 to the
// exponent field then carries into the sign bit, and only then. Integer ops
// with an OR reduction, so the loop vectorises without -ffast-math.
bool all_finite(const char* bytes, std::size_t n) {
  constexpr std::uint64_t kExponent = 0x7FF0000000000000ULL;
  constexpr std::uint64_t kExponentOne = 0x0010000000000000ULL;
  std::uint64_t carry = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t bits;
    std::memcpy(&bits, bytes + 8 * i, sizeof bits);
    carry |= (bits & kExponent) + kExponentOne;
  }
  return (carry >> 63) == 0;
}

}  // namespace

std::string encode_doubles(std::span<const double> values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size_bytes());
}

std::optional<std::vector<double>> decode_doubles(std::string_view bytes) {
  std::vector<double> values;
  if (!decode_doubles_into(bytes, values)) return std::nullopt;
  return values;
}

bool decode_doubles_into(std::string_view bytes, std::vector<double>& out) {
  if (bytes.size() % sizeof(double) != 0) return false;
  out.resize(bytes.size() / sizeof(double));
  if (!out.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
  return true;
}

std::string encode_context(const Context& context) {
  const auto user_dim = static_cast<std::uint32_t>(context.user.size());
  const auto action_dim = static_cast<std::uint32_t>(context.actions.rows());
  const auto n = static_cast<std::uint32_t>(context.items.size());
  std::string out;
  out.reserve(12 + 8 * (user_dim + static_cast<std::size_t>(action_dim) * n + n));
  put(out, user_dim);
  put(out, action_dim);
  put(out, n);
  out.append(reinterpret_cast<const char*>(context.user.data()), sizeof(double) * user_dim);
  out.append(reinterpret_cast<const char*>(context.actions.data()),
             sizeof(double) * static_cast<std::size_t>(action_dim) * n);
  out.append(reinterpret_cast<const char*>(context.items.data()), sizeof(ItemId) * n);
  return out;
}

std::optional<Context> decode_context(std::string_view bytes) {
  Context context;
  if (!decode_context_into(bytes, context)) return std::nullopt;
  return context;
}

bool decode_context_into(std::string_view bytes, Context& out) {
  if (bytes.size() < 12) return false;
  const char* cursor = bytes.data();
  const auto user_dim = get<std::uint32_t>(cursor);
  const auto action_dim = get<std::uint32_t>(cursor);
  const auto n = get<std::uint32_t>(cursor);
  if (user_dim > kMaxFeatureDim || action_dim > kMaxFeatureDim || n > kMaxCandidates) {
    return false;
  }
  const std::size_t features = static_cast<std::size_t>(user_dim) +
                               static_cast<std::size_t>(action_dim) * n;
  if (bytes.size() != 12 + 8 * (features + n)) return false;
  // The features are checked in the bytes, before anything is copied.
  if (!all_finite(cursor, features)) return false;
  // Eigen's resize keeps the storage when the size is unchanged.
  out.user.resize(user_dim);
  out.actions.resize(action_dim, n);
  out.items.resize(n);
  out.available.clear();  // not encoded: every candidate of a decoded context is available
  // An empty Eigen object has data() == nullptr, and memcpy from or to a null
  // pointer is undefined even for 0 bytes: copy only what is there.
  const std::size_t action_values = static_cast<std::size_t>(action_dim) * n;
  if (user_dim) std::memcpy(out.user.data(), cursor, sizeof(double) * user_dim);
  cursor += sizeof(double) * user_dim;
  if (action_values) std::memcpy(out.actions.data(), cursor, sizeof(double) * action_values);
  cursor += sizeof(double) * action_values;
  if (n) std::memcpy(out.items.data(), cursor, sizeof(ItemId) * n);
  return true;
}

}  // namespace recloop

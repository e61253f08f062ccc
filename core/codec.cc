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

}  // namespace

std::string encode_doubles(std::span<const double> values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size_bytes());
}

std::optional<std::vector<double>> decode_doubles(std::string_view bytes) {
  if (bytes.size() % sizeof(double) != 0) return std::nullopt;
  std::vector<double> values(bytes.size() / sizeof(double));
  if (!values.empty()) std::memcpy(values.data(), bytes.data(), bytes.size());
  return values;
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
  if (bytes.size() < 12) return std::nullopt;
  const char* cursor = bytes.data();
  const auto user_dim = get<std::uint32_t>(cursor);
  const auto action_dim = get<std::uint32_t>(cursor);
  const auto n = get<std::uint32_t>(cursor);
  if (user_dim > kMaxFeatureDim || action_dim > kMaxFeatureDim || n > kMaxCandidates) {
    return std::nullopt;
  }
  const std::size_t expected =
      12 + 8 * (static_cast<std::size_t>(user_dim) + static_cast<std::size_t>(action_dim) * n + n);
  if (bytes.size() != expected) return std::nullopt;
  Context context;
  context.user.resize(user_dim);
  context.actions.resize(action_dim, n);
  context.items.resize(n);
  std::memcpy(context.user.data(), cursor, sizeof(double) * user_dim);
  cursor += sizeof(double) * user_dim;
  std::memcpy(context.actions.data(), cursor, sizeof(double) * static_cast<std::size_t>(action_dim) * n);
  cursor += sizeof(double) * static_cast<std::size_t>(action_dim) * n;
  if (n) std::memcpy(context.items.data(), cursor, sizeof(ItemId) * n);
  if (!context.user.allFinite() || !context.actions.allFinite()) return std::nullopt;
  return context;
}

}  // namespace recloop

// SPDX-License-Identifier: Apache-2.0
// The layout of a fuzz input that stands for a multipart message: each part is
// a u32 little-endian byte length followed by that many bytes; a length past
// the end of the input takes the rest. make_corpus.cc writes the seeds in this
// layout, so a seed is one valid message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace recloop::fuzz {

// At most this many parts; frames have at most four.
inline constexpr std::size_t kMaxParts = 8;

inline std::vector<std::string_view> split_parts(std::string_view input) {
  std::vector<std::string_view> parts;
  while (input.size() >= 4 && parts.size() < kMaxParts) {
    std::uint32_t length = 0;
    for (int i = 3; i >= 0; --i) length = (length << 8) | static_cast<unsigned char>(input[i]);
    input.remove_prefix(4);
    const std::size_t take = length < input.size() ? length : input.size();
    parts.push_back(input.substr(0, take));
    input.remove_prefix(take);
  }
  return parts;
}

inline std::string join_parts(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& part : parts) {
    const auto length = static_cast<std::uint32_t>(part.size());
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((length >> (8 * i)) & 0xff));
    out += part;
  }
  return out;
}

}  // namespace recloop::fuzz

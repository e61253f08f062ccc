// SPDX-License-Identifier: Apache-2.0
#include "feedback/wire.h"

#include "core/codec.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <system_error>

namespace recloop {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the wire format writes native bytes and assumes a little-endian host");

template <typename T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

void put_string(std::string& out, std::string_view text) {
  put(out, static_cast<std::uint32_t>(text.size()));
  out.append(text);
}

void put_doubles(std::string& out, std::span<const double> values) {
  put(out, static_cast<std::uint32_t>(values.size()));
  out.append(encode_doubles(values));
}

// Reads fields front to back; any shortfall or limit breach makes it !ok()
// for good, so a decoder can read everything and test once at the end.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}

  template <typename T>
  T read() {
    T value{};
    if (!ok_ || rest_.size() < sizeof(T)) return fail(value);
    std::memcpy(&value, rest_.data(), sizeof(T));
    rest_.remove_prefix(sizeof(T));
    return value;
  }

  std::string_view read_string(std::size_t max_bytes) {
    const auto size = read<std::uint32_t>();
    if (!ok_ || size > max_bytes || size > rest_.size()) return fail(std::string_view());
    const std::string_view text = rest_.substr(0, size);
    rest_.remove_prefix(size);
    return text;
  }

  std::vector<double> read_doubles() {
    const auto count = read<std::uint32_t>();
    // Check the length before allocating: a forged count must not cost memory.
    if (!ok_ || count > kMaxCandidates || std::size_t{count} * sizeof(double) > rest_.size()) {
      return fail(std::vector<double>());
    }
    std::vector<double> values(count);
    if (count) std::memcpy(values.data(), rest_.data(), count * sizeof(double));
    rest_.remove_prefix(count * sizeof(double));
    return values;
  }

  // As read_doubles, into `out`, reusing its storage.
  void read_doubles_into(std::vector<double>& out) {
    const auto count = read<std::uint32_t>();
    if (!ok_ || count > kMaxCandidates || std::size_t{count} * sizeof(double) > rest_.size()) {
      out.clear();
      ok_ = false;
      return;
    }
    out.resize(count);
    if (count) std::memcpy(out.data(), rest_.data(), count * sizeof(double));
    rest_.remove_prefix(count * sizeof(double));
  }

  std::string_view rest() const { return rest_; }
  bool ok() const { return ok_; }

 private:
  template <typename T>
  T fail(T value) {
    ok_ = false;
    return value;
  }

  std::string_view rest_;
  bool ok_ = true;
};

// Event ids and policy names end up as TEXT in the log and in terminal output:
// no control characters (UTF-8 is fine).
bool is_clean_text(std::string_view text, std::size_t max_bytes) {
  if (text.size() > max_bytes) return false;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) return false;
  }
  return true;
}

bool is_event_id(std::string_view text) {
  return !text.empty() && is_clean_text(text, kMaxEventIdBytes);
}

bool all_finite(std::span<const double> values) {
  for (double v : values) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

// Policies normalise in double precision (error ~1e-15 per candidate); this
// only catches pmfs that were never normalised.
constexpr double kPmfSumTolerance = 1e-6;

bool is_probability(double p) { return p > 0.0 && p <= 1.0; }

// A slot's conditional: 0 = not recorded, else a probability.
bool is_conditional(double p) { return p == 0.0 || is_probability(p); }

template <typename T>
std::string to_text(T value) {
  char buffer[kMaxNumberBytes];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, end);
}

// The whole of `text` must be the number: no spaces, no trailing bytes.
template <typename T>
std::optional<T> from_text(std::string_view text) {
  if (text.empty() || text.size() > kMaxNumberBytes) return std::nullopt;
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

Frames encode_decision(const LoggedDecision& logged) {
  const Decision& d = logged.decision;
  const std::string context = encode_context(logged.context);
  std::string payload;
  payload.reserve(64 + d.policy.size() + 8 * (d.pmf.size() + logged.truth.size()) + context.size());
  put_string(payload, d.policy);
  put(payload, static_cast<std::uint64_t>(d.model_version));
  put(payload, static_cast<std::uint32_t>(d.action));
  put(payload, static_cast<std::uint64_t>(d.item));
  put(payload, d.probability);
  put(payload, static_cast<std::int64_t>(logged.timestamp_us));
  put_doubles(payload, d.pmf);
  put_doubles(payload, logged.truth);
  put(payload, static_cast<std::uint32_t>(d.slot));
  put(payload, d.conditional);
  put_string(payload, d.session);
  put(payload, static_cast<std::uint32_t>(d.step));
  put(payload, static_cast<std::uint8_t>((d.skip_learning ? kFlagSkipLearning : 0) |
                                         (d.deferred ? kFlagDeferred : 0)));
  payload.append(context);
  return {std::string(kDecisionTag), d.event_id, std::move(payload)};
}

Frames encode_reward(const Reward& reward) {
  return {std::string(kRewardTag), reward.event_id, reward.reward_id, to_text(reward.value),
          to_text(reward.timestamp_us)};
}

Frames encode_activation(std::string_view event_id) {
  return {std::string(kActivationTag), std::string(event_id)};
}

Frames encode_ack(EventKind kind, std::string_view event_id, std::string_view reward_id) {
  const std::string_view word = kind == EventKind::decision ? kAckDecision
                                : kind == EventKind::reward ? kAckReward
                                                            : kAckActivation;
  Frames frames{std::string(kAckTag), std::string(word), std::string(event_id)};
  if (kind == EventKind::reward && !reward_id.empty()) frames.emplace_back(reward_id);
  return frames;
}

Frames encode_interaction(const Interaction& interaction) {
  const std::string context = encode_context(interaction.context);
  std::string payload;
  payload.reserve(64 + interaction.event_id.size() + interaction.policy.size() +
                  8 * interaction.truth.size() + context.size());
  put_string(payload, interaction.event_id);
  put_string(payload, interaction.policy);
  put(payload, static_cast<std::uint32_t>(interaction.action));
  put(payload, interaction.probability);
  put(payload, interaction.reward);
  put_doubles(payload, interaction.truth);
  put(payload, static_cast<std::uint32_t>(interaction.slot));
  put(payload, interaction.conditional);
  put_string(payload, interaction.session);
  put(payload, static_cast<std::uint32_t>(interaction.step));
  payload.append(context);
  return {std::string(kInteractionTag), std::move(payload)};
}

std::optional<LoggedDecision> decode_decision(std::span<const std::string_view> parts) {
  LoggedDecision logged;
  if (!decode_decision_into(parts, logged)) return std::nullopt;
  return logged;
}

bool decode_decision_into(std::span<const std::string_view> parts, LoggedDecision& logged) {
  if (parts.size() != 3) return false;
  const bool v1 = parts[0] == kDecisionTagV1;
  const bool v2 = parts[0] == kDecisionTagV2;
  const bool v3 = parts[0] == kDecisionTagV3;
  if ((parts[0] != kDecisionTag && !v1 && !v2 && !v3) || !is_event_id(parts[1]) ||
      parts[2].size() > kMaxPayloadBytes) {
    return false;
  }
  Decision& d = logged.decision;
  Reader reader(parts[2]);
  const std::string_view policy = reader.read_string(kMaxPolicyBytes);
  d.model_version = reader.read<std::uint64_t>();
  d.action = reader.read<std::uint32_t>();
  d.item = reader.read<std::uint64_t>();
  d.probability = reader.read<double>();
  logged.timestamp_us = reader.read<std::int64_t>();
  reader.read_doubles_into(d.pmf);
  reader.read_doubles_into(logged.truth);
  d.slot = v1 ? 0 : reader.read<std::uint32_t>();
  d.conditional = v1 || v2 ? 0.0 : reader.read<double>();
  const bool v4 = !v1 && !v2 && !v3;
  const std::string_view session = v4 ? reader.read_string(kMaxEventIdBytes) : std::string_view();
  d.step = v4 ? reader.read<std::uint32_t>() : 0;
  const std::uint8_t flags = v4 ? reader.read<std::uint8_t>() : 0;
  if (!reader.ok() || !is_clean_text(policy, kMaxPolicyBytes) ||
      !is_clean_text(session, kMaxEventIdBytes) ||
      (flags & ~(kFlagSkipLearning | kFlagDeferred)) != 0) {
    return false;
  }
  d.skip_learning = (flags & kFlagSkipLearning) != 0;
  d.deferred = (flags & kFlagDeferred) != 0;
  // Decoded into the caller's storage: no allocation when the dimensions repeat.
  if (!decode_context_into(reader.rest(), logged.context)) return false;

  const std::size_t n = logged.context.size();
  // Version 1 always carried the pmf; version 2 may leave it empty.
  const bool has_pmf = v1 || !d.pmf.empty();
  if ((has_pmf && d.pmf.size() != n) || d.action >= n || d.item != logged.context.items[d.action]) {
    return false;
  }
  if (!is_probability(d.probability) || !is_conditional(d.conditional)) return false;
  d.conditional = logged_conditional(d.slot, d.probability, d.conditional);
  if (has_pmf) {
    double total = 0.0;
    for (double p : d.pmf) {
      if (!(p >= 0.0 && p <= 1.0)) return false;
      total += p;
    }
    if (!(std::abs(total - 1.0) <= kPmfSumTolerance)) return false;
    if (d.probability != d.pmf[d.action]) return false;
  }
  if (!(logged.truth.empty() || logged.truth.size() == n) || !all_finite(logged.truth)) {
    return false;
  }
  d.event_id.assign(parts[1]);
  d.policy.assign(policy);
  d.session.assign(session);
  return true;
}

std::optional<Reward> decode_reward(std::span<const std::string_view> parts) {
  // rew2 carries the reward id as its third part; rew1 has none.
  const bool v1 = parts.size() == 4 && parts[0] == kRewardTagV1;
  const bool v2 = parts.size() == 5 && parts[0] == kRewardTag;
  if ((!v1 && !v2) || !is_event_id(parts[1])) return std::nullopt;
  const std::string_view reward_id = v2 ? parts[2] : std::string_view();
  if (!is_clean_text(reward_id, kMaxEventIdBytes)) return std::nullopt;
  const std::size_t first = v2 ? 3 : 2;
  const auto value = from_text<double>(parts[first]);
  const auto timestamp_us = from_text<std::int64_t>(parts[first + 1]);
  if (!value || !std::isfinite(*value) || !timestamp_us) return std::nullopt;
  return Reward{std::string(parts[1]), *value, *timestamp_us, std::string(reward_id)};
}

std::optional<std::string_view> decode_activation(std::span<const std::string_view> parts) {
  if (parts.size() != 2 || parts[0] != kActivationTag || !is_event_id(parts[1])) {
    return std::nullopt;
  }
  return parts[1];
}

std::optional<Ack> decode_ack(std::span<const std::string_view> parts) {
  if (parts.size() < 3 || parts.size() > 4 || parts[0] != kAckTag || !is_event_id(parts[2])) {
    return std::nullopt;
  }
  if (parts.size() == 4) {
    // Only a reward ack names a reward id, and never an empty one.
    if (parts[1] != kAckReward || !is_event_id(parts[3])) return std::nullopt;
    return Ack{EventKind::reward, parts[2], parts[3]};
  }
  if (parts[1] == kAckDecision) return Ack{EventKind::decision, parts[2], {}};
  if (parts[1] == kAckReward) return Ack{EventKind::reward, parts[2], {}};
  if (parts[1] == kAckActivation) return Ack{EventKind::activation, parts[2], {}};
  return std::nullopt;
}

std::optional<Interaction> decode_interaction(std::span<const std::string_view> parts) {
  if (parts.size() != 2) return std::nullopt;
  const bool v1 = parts[0] == kInteractionTagV1;
  const bool v2 = parts[0] == kInteractionTagV2;
  const bool v3 = parts[0] == kInteractionTagV3;
  if ((parts[0] != kInteractionTag && !v1 && !v2 && !v3) ||
      parts[1].size() > kMaxPayloadBytes) {
    return std::nullopt;
  }
  Interaction interaction;
  Reader reader(parts[1]);
  const std::string_view event_id = reader.read_string(kMaxEventIdBytes);
  const std::string_view policy = reader.read_string(kMaxPolicyBytes);
  interaction.action = reader.read<std::uint32_t>();
  interaction.probability = reader.read<double>();
  interaction.reward = reader.read<double>();
  interaction.truth = reader.read_doubles();
  interaction.slot = v1 ? 0 : reader.read<std::uint32_t>();
  interaction.conditional = v1 || v2 ? 0.0 : reader.read<double>();
  const bool v4 = !v1 && !v2 && !v3;
  const std::string_view session = v4 ? reader.read_string(kMaxEventIdBytes) : std::string_view();
  interaction.step = v4 ? reader.read<std::uint32_t>() : 0;
  if (!reader.ok() || !is_event_id(event_id) || !is_clean_text(policy, kMaxPolicyBytes) ||
      !is_clean_text(session, kMaxEventIdBytes)) {
    return std::nullopt;
  }
  auto context = decode_context(reader.rest());
  if (!context) return std::nullopt;
  interaction.context = std::move(*context);
  const std::size_t n = interaction.context.size();
  if (interaction.action >= n || !is_probability(interaction.probability) ||
      !is_conditional(interaction.conditional) || !std::isfinite(interaction.reward)) {
    return std::nullopt;
  }
  interaction.conditional =
      logged_conditional(interaction.slot, interaction.probability, interaction.conditional);
  if (!(interaction.truth.empty() || interaction.truth.size() == n) ||
      !all_finite(interaction.truth)) {
    return std::nullopt;
  }
  interaction.event_id.assign(event_id);
  interaction.policy.assign(policy);
  interaction.session.assign(session);
  return interaction;
}

}  // namespace recloop

// SPDX-License-Identifier: Apache-2.0
// The feedback wire protocol: ZeroMQ multipart messages whose first part is a
// versioned tag. A change of layout gets a new tag ("dec3"), so old and new
// peers reject each other's frames instead of misreading them.
//
//   client -> collector (DEALER -> ROUTER; the ROUTER prepends the peer's routing id)
//     decision     ["dec3", event_id, payload]
//     reward       ["rew1", event_id, reward, timestamp_us]
//   collector -> client, once the event is committed to the log (duplicates too)
//     ack          ["ack1", "dec" | "rew", event_id]
//   collector -> learners (PUSH -> PULL), each interaction once, when first joined
//     interaction  ["int3", payload]
//
// Numbers in reward frames travel as text (std::to_chars: shortest exact
// round-trip form, readable in a capture); reward must be finite, timestamp_us
// a base-10 int64. Binary payloads are little-endian; "str" is a u32 byte
// length followed by the bytes, "f64s" a u32 count followed by that many f64,
// "context" the layout of core/codec.h taking all remaining bytes:
//
//   decision payload:     str policy, u64 model_version, u32 action, u64 item,
//                         f64 probability, i64 timestamp_us, f64s pmf,
//                         f64s truth, u32 slot, f64 conditional, context
//   interaction payload:  str event_id, str policy, u32 action, f64 probability,
//                         f64 reward, f64s truth, u32 slot, f64 conditional, context
//
// Version 2 added the ranking slot (the u32 after truth) and allows an empty
// pmf; version 3 the slot's conditional probability (the f64 after the slot,
// Decision::conditional: 0 = not recorded, else in (0, 1]). Decoders still
// accept version 2 frames ("dec2", "int2": the same layouts without the
// conditional) and version 1 frames ("dec1", "int1": without slot and
// conditional, pmf always present, read as slot 0). Encoders write version 3
// only. Decoders return the conditional as logged_conditional() of
// core/types.h: the one sent when recorded (> 0); else, as for every frame of
// an older version, the probability at slot 0 (where the two coincide) and 0
// (not recorded) at later slots.
//
// Decoders return std::nullopt for anything malformed (unknown tag, wrong part
// count, bad number, oversized or inconsistent field): bad frames are expected
// input. A decoded decision satisfies the probability contract: action <
// candidates, item is the chosen candidate's id, probability is in (0, 1], and
// the pmf is either empty (only the chosen action's probability is known, as
// in imported logs) or has one entry in [0, 1] per candidate, sums to 1 within
// 1e-6 and has pmf[action] == probability; conditional is 0 or in (0, 1];
// truth is empty or one finite value per candidate.
#pragma once

#include "core/types.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace recloop {

inline constexpr std::string_view kDecisionTag = "dec3";
inline constexpr std::string_view kDecisionTagV2 = "dec2";  // decoded, never encoded
inline constexpr std::string_view kDecisionTagV1 = "dec1";  // decoded, never encoded
inline constexpr std::string_view kRewardTag = "rew1";
inline constexpr std::string_view kAckTag = "ack1";
inline constexpr std::string_view kInteractionTag = "int3";
inline constexpr std::string_view kInteractionTagV2 = "int2";  // decoded, never encoded
inline constexpr std::string_view kInteractionTagV1 = "int1";  // decoded, never encoded
// Second part of an ack: which kind of event it acknowledges.
inline constexpr std::string_view kAckDecision = "dec";
inline constexpr std::string_view kAckReward = "rew";

// Limits a decoder enforces before allocating anything.
inline constexpr std::size_t kMaxEventIdBytes = 256;
inline constexpr std::size_t kMaxPolicyBytes = 256;
inline constexpr std::size_t kMaxNumberBytes = 64;          // a reward or timestamp as text
inline constexpr std::size_t kMaxPayloadBytes = 64u << 20;  // one decision or interaction
// Largest whole message a collector accepts (payload plus small parts);
// ZeroMQ drops the connection of a peer that sends more.
inline constexpr std::int64_t kMaxMessageBytes = kMaxPayloadBytes + 4096;

enum class EventKind : std::uint8_t { decision, reward };

// The parts of one message, in order (no routing-id part).
using Frames = std::vector<std::string>;

Frames encode_decision(const LoggedDecision& decision);
Frames encode_reward(const Reward& reward);
Frames encode_ack(EventKind kind, std::string_view event_id);
Frames encode_interaction(const Interaction& interaction);

// `parts` are the message parts as received, tag first. The views must stay
// valid while the call runs; results own their data, except Ack::event_id,
// which views parts[2].
std::optional<LoggedDecision> decode_decision(std::span<const std::string_view> parts);
std::optional<Reward> decode_reward(std::span<const std::string_view> parts);

struct Ack {
  EventKind kind;
  std::string_view event_id;
};
std::optional<Ack> decode_ack(std::span<const std::string_view> parts);

std::optional<Interaction> decode_interaction(std::span<const std::string_view> parts);

}  // namespace recloop

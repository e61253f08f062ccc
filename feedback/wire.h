// SPDX-License-Identifier: Apache-2.0
// The feedback wire protocol: ZeroMQ multipart messages whose first part is a
// versioned tag. A change of layout gets a new tag ("dec4"), so old and new
// peers reject each other's frames instead of misreading them.
//
//   client -> collector (DEALER -> ROUTER; the ROUTER prepends the peer's routing id)
//     decision     ["dec4", event_id, payload]
//     reward       ["rew2", event_id, reward_id, reward, timestamp_us]
//     activation   ["act1", event_id]
//   collector -> client, once the event is committed to the log (duplicates too)
//     ack          ["ack1", "dec" | "act", event_id]
//                  ["ack1", "rew", event_id]              a reward with reward_id ""
//                  ["ack1", "rew", event_id, reward_id]   a reward with a reward_id
//   collector -> learners (PUSH -> PULL), each interaction once, when joined
//     interaction  ["int4", payload]
//
// Numbers in reward frames travel as text (std::to_chars: shortest exact
// round-trip form, readable in a capture); reward must be finite, timestamp_us
// a base-10 int64. reward_id is "" (the event's only reward) or clean text
// like an event id. Binary payloads are little-endian; "str" is a u32 byte
// length followed by the bytes, "f64s" a u32 count followed by that many f64,
// "context" the layout of core/codec.h taking all remaining bytes:
//
//   decision payload:     str policy, u64 model_version, u32 action, u64 item,
//                         f64 probability, i64 timestamp_us, f64s pmf,
//                         f64s truth, u32 slot, f64 conditional,
//                         str session, u32 step, u8 flags, context
//   interaction payload:  str event_id, str policy, u32 action, f64 probability,
//                         f64 reward, f64s truth, u32 slot, f64 conditional,
//                         str session, u32 step, context
//
// flags: bit 0 Decision::skip_learning, bit 1 Decision::deferred; the other
// bits must be 0.
//
// Version 2 added the ranking slot (the u32 after truth) and allows an empty
// pmf; version 3 the slot's conditional probability (the f64 after the slot,
// Decision::conditional: 0 = not recorded, else in (0, 1]); version 4 the
// session, step and flags ("dec4", "int4"), reward ids ("rew2") and
// activations ("act1"). Decoders still accept version 3 frames ("dec3",
// "int3": without session, step and flags), version 2 frames ("dec2",
// "int2": also without the conditional), version 1 frames ("dec1", "int1":
// also without slot, pmf always present, read as slot 0) and "rew1" rewards
// ([tag, event_id, reward, timestamp_us], reward_id ""); older frames read as
// session "", step 0, no flags. Encoders write the newest version only.
// Decoders return the conditional as logged_conditional() of
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
// truth is empty or one finite value per candidate; session is clean text of at
// most kMaxEventIdBytes.
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

inline constexpr std::string_view kDecisionTag = "dec4";
inline constexpr std::string_view kDecisionTagV3 = "dec3";  // decoded, never encoded
inline constexpr std::string_view kDecisionTagV2 = "dec2";  // decoded, never encoded
inline constexpr std::string_view kDecisionTagV1 = "dec1";  // decoded, never encoded
inline constexpr std::string_view kRewardTag = "rew2";
inline constexpr std::string_view kRewardTagV1 = "rew1";  // decoded, never encoded
inline constexpr std::string_view kActivationTag = "act1";
inline constexpr std::string_view kAckTag = "ack1";
inline constexpr std::string_view kInteractionTag = "int4";
inline constexpr std::string_view kInteractionTagV3 = "int3";  // decoded, never encoded
inline constexpr std::string_view kInteractionTagV2 = "int2";  // decoded, never encoded
inline constexpr std::string_view kInteractionTagV1 = "int1";  // decoded, never encoded
// Second part of an ack: which kind of event it acknowledges.
inline constexpr std::string_view kAckDecision = "dec";
inline constexpr std::string_view kAckReward = "rew";
inline constexpr std::string_view kAckActivation = "act";

// Limits a decoder enforces before allocating anything.
inline constexpr std::size_t kMaxEventIdBytes = 256;
inline constexpr std::size_t kMaxPolicyBytes = 256;
inline constexpr std::size_t kMaxNumberBytes = 64;          // a reward or timestamp as text
inline constexpr std::size_t kMaxPayloadBytes = 64u << 20;  // one decision or interaction
// Largest whole message a collector accepts (payload plus small parts);
// ZeroMQ drops the connection of a peer that sends more.
inline constexpr std::int64_t kMaxMessageBytes = kMaxPayloadBytes + 4096;

enum class EventKind : std::uint8_t { decision, reward, activation };

// Bits of the decision payload's flags byte.
inline constexpr std::uint8_t kFlagSkipLearning = 1;
inline constexpr std::uint8_t kFlagDeferred = 2;

// The parts of one message, in order (no routing-id part).
using Frames = std::vector<std::string>;

Frames encode_decision(const LoggedDecision& decision);
Frames encode_reward(const Reward& reward);
Frames encode_activation(std::string_view event_id);
// `reward_id` only for a reward (EventKind::reward); "" = the 3-part form.
Frames encode_ack(EventKind kind, std::string_view event_id, std::string_view reward_id = {});
Frames encode_interaction(const Interaction& interaction);

// `parts` are the message parts as received, tag first. The views must stay
// valid while the call runs; results own their data, except the views of
// Ack and decode_activation(), which view the parts.
std::optional<LoggedDecision> decode_decision(std::span<const std::string_view> parts);
// As decode_decision, into `out`, reusing its storage (strings, pmf, truth,
// context): a receiver that decodes into the same slot message after message
// allocates nothing once the shapes repeat. False on any malformed input, with
// `out` then unspecified.
bool decode_decision_into(std::span<const std::string_view> parts, LoggedDecision& out);
std::optional<Reward> decode_reward(std::span<const std::string_view> parts);
// The activated event id.
std::optional<std::string_view> decode_activation(std::span<const std::string_view> parts);

struct Ack {
  EventKind kind;
  std::string_view event_id;
  std::string_view reward_id;  // "" unless a reward ack of the 4-part form
};
std::optional<Ack> decode_ack(std::span<const std::string_view> parts);

std::optional<Interaction> decode_interaction(std::span<const std::string_view> parts);

}  // namespace recloop

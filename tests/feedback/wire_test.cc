// SPDX-License-Identifier: Apache-2.0
#include "feedback/wire.h"

#include "tests/logging/fixtures.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <limits>
#include <string>
#include <vector>

using namespace recloop;
using recloop::testing::sample_decision;

namespace {

std::vector<std::string_view> views(const Frames& frames) { return {frames.begin(), frames.end()}; }

std::optional<LoggedDecision> decode_decision_frames(const Frames& frames) {
  const auto parts = views(frames);
  return decode_decision(parts);
}

// Checks the numbers as both reward versions carry them.
std::optional<Reward> decode_reward_text(std::string_view value, std::string_view timestamp) {
  const std::vector<std::string_view> v1{kRewardTagV1, "e1", value, timestamp};
  const std::vector<std::string_view> v2{kRewardTag, "e1", "r1", value, timestamp};
  const auto old = decode_reward(v1);
  const auto current = decode_reward(v2);
  REQUIRE(old.has_value() == current.has_value());
  return current;
}

// The version 3 frames of `sent`: the version 4 payload without the session,
// step and flags that follow the conditional.
Frames decision_v3(const LoggedDecision& sent) {
  Frames frames = encode_decision(sent);
  const Decision& d = sent.decision;
  // policy, model_version .. timestamp_us (8 + 4 + 8 + 8 + 8), pmf, truth, slot, conditional
  const std::size_t offset = 4 + d.policy.size() + 36 + 4 + 8 * d.pmf.size() + 4 +
                             8 * sent.truth.size() + 4 + 8;
  frames[2].erase(offset, 4 + d.session.size() + 4 + 1);
  frames[0] = std::string(kDecisionTagV3);
  return frames;
}

Frames interaction_v3(const Interaction& sent) {
  Frames frames = encode_interaction(sent);
  // event id, policy, action, probability, reward, truth, slot, conditional
  const std::size_t offset = 4 + sent.event_id.size() + 4 + sent.policy.size() + 20 + 4 +
                             8 * sent.truth.size() + 4 + 8;
  frames[1].erase(offset, 4 + sent.session.size() + 4);
  frames[0] = std::string(kInteractionTagV3);
  return frames;
}

void put_u32(std::string& out, std::uint32_t value) {
  char bytes[4];
  std::memcpy(bytes, &value, 4);
  out.append(bytes, 4);
}

}  // namespace

TEST_CASE("a decision survives the wire bit for bit", "[feedback]") {
  LoggedDecision sent = sample_decision("req-17", "lin_ucb", 5, 3);
  SECTION("with ground truth") {}
  SECTION("without ground truth") { sent.truth.clear(); }
  const auto received = decode_decision_frames(encode_decision(sent));
  REQUIRE(received.has_value());
  const Decision& d = received->decision;
  CHECK(d.event_id == sent.decision.event_id);
  CHECK(d.action == sent.decision.action);
  CHECK(d.item == sent.decision.item);
  CHECK(d.probability == sent.decision.probability);
  CHECK(d.pmf == sent.decision.pmf);
  CHECK(d.policy == sent.decision.policy);
  CHECK(d.model_version == sent.decision.model_version);
  CHECK(received->truth == sent.truth);
  CHECK(received->timestamp_us == sent.timestamp_us);
  CHECK(received->context.user == sent.context.user);
  CHECK(received->context.actions == sent.context.actions);
  CHECK(received->context.items == sent.context.items);
}

TEST_CASE("a reward survives the wire exactly, as text", "[feedback]") {
  const double value = GENERATE(0.0, 1.0, 0.1, -3.75e-300, std::numeric_limits<double>::max(),
                                std::numeric_limits<double>::denorm_min());
  const std::int64_t timestamp =
      GENERATE(std::int64_t{0}, std::int64_t{-5}, std::numeric_limits<std::int64_t>::max());
  const Frames frames = encode_reward(Reward{"click-9", value, timestamp});
  REQUIRE(frames.size() == 5);
  const auto received = decode_reward(views(frames));
  REQUIRE(received.has_value());
  CHECK(received->event_id == "click-9");
  CHECK(received->value == value);
  CHECK(received->timestamp_us == timestamp);
}

TEST_CASE("acks and interactions survive the wire", "[feedback]") {
  for (EventKind kind : {EventKind::decision, EventKind::reward}) {
    const Frames frames = encode_ack(kind, "e-1");
    const auto ack = decode_ack(views(frames));
    REQUIRE(ack.has_value());
    CHECK(ack->kind == kind);
    CHECK(ack->event_id == "e-1");
  }
  const LoggedDecision logged = sample_decision("e-2", "softmax", 3, 2);
  Interaction sent{"e-2", logged.context, 2, 0.25, -1.5, logged.truth, "softmax"};
  const Frames frames = encode_interaction(sent);
  const auto received = decode_interaction(views(frames));
  REQUIRE(received.has_value());
  CHECK(received->event_id == sent.event_id);
  CHECK(received->policy == sent.policy);
  CHECK(received->action == sent.action);
  CHECK(received->probability == sent.probability);
  CHECK(received->reward == sent.reward);
  CHECK(received->truth == sent.truth);
  CHECK(received->context.actions == sent.context.actions);
  CHECK(received->context.items == sent.context.items);
}

TEST_CASE("frames with another version tag are rejected", "[feedback]") {
  Frames decision = encode_decision(sample_decision("e1"));
  Frames reward = encode_reward(Reward{"e1", 1.0, 5});
  Frames ack = encode_ack(EventKind::reward, "e1");
  const std::string tag = GENERATE(std::string("dec5"), std::string("rew3"), std::string("ack2"),
                                   std::string("int5"), std::string(""), std::string("DEC1"));
  decision[0] = reward[0] = ack[0] = tag;
  CHECK_FALSE(decode_decision_frames(decision).has_value());
  CHECK_FALSE(decode_reward(views(reward)).has_value());
  CHECK_FALSE(decode_ack(views(ack)).has_value());
  Frames interaction =
      encode_interaction(Interaction{"e1", sample_decision("e1").context, 0, 1.0, 0.0, {}, "p"});
  interaction[0] = tag;
  CHECK_FALSE(decode_interaction(views(interaction)).has_value());
}

TEST_CASE("frames with the wrong number of parts are rejected", "[feedback]") {
  Frames decision = encode_decision(sample_decision("e1"));
  Frames reward = encode_reward(Reward{"e1", 1.0, 5});
  Frames ack = encode_ack(EventKind::decision, "e1");
  SECTION("one part missing") {
    decision.pop_back();
    reward.pop_back();
    ack.pop_back();
  }
  SECTION("one part too many") {
    decision.emplace_back("x");
    reward.emplace_back("x");
    ack.emplace_back("x");
  }
  CHECK_FALSE(decode_decision_frames(decision).has_value());
  CHECK_FALSE(decode_reward(views(reward)).has_value());
  CHECK_FALSE(decode_ack(views(ack)).has_value());
}

TEST_CASE("rewards that are not finite numbers are rejected", "[feedback]") {
  CHECK(decode_reward_text("0.5", "12").has_value());
  for (std::string_view bad :
       {"nan", "NaN", "inf", "-inf", "1e999", "", " 1", "1 ", "1.0abc", "0x1p3", "+1", "1,5"}) {
    INFO("reward '" << bad << "'");
    CHECK_FALSE(decode_reward_text(bad, "12").has_value());
  }
  for (std::string_view bad : {"1.5", "", "99999999999999999999", "12a", " 12", "1e3"}) {
    INFO("timestamp '" << bad << "'");
    CHECK_FALSE(decode_reward_text("1", bad).has_value());
  }
}

TEST_CASE("bad event ids are rejected", "[feedback]") {
  for (const std::string& bad : {std::string(""), std::string(kMaxEventIdBytes + 1, 'a'),
                                 std::string("a\nb"), std::string("a\0b", 3)}) {
    CHECK_FALSE(decode_reward(views(encode_reward(Reward{bad, 1.0, 0}))).has_value());
    CHECK_FALSE(decode_ack(views(encode_ack(EventKind::decision, bad))).has_value());
    CHECK_FALSE(decode_decision_frames(encode_decision(sample_decision(bad))).has_value());
  }
  CHECK(decode_ack(views(encode_ack(EventKind::decision, std::string(kMaxEventIdBytes, 'a'))))
            .has_value());
}

TEST_CASE("a truncated or padded decision payload is rejected", "[feedback]") {
  const Frames frames = encode_decision(sample_decision("e1"));
  for (std::size_t size = 0; size < frames[2].size(); ++size) {
    Frames truncated = frames;
    truncated[2].resize(size);
    INFO("payload cut to " << size << " of " << frames[2].size() << " bytes");
    REQUIRE_FALSE(decode_decision_frames(truncated).has_value());
  }
  Frames padded = frames;
  padded[2].push_back('\0');
  REQUIRE_FALSE(decode_decision_frames(padded).has_value());
}

TEST_CASE("a decision that breaks the probability contract is rejected", "[feedback]") {
  LoggedDecision logged = sample_decision("e1", "p", 4, 1);
  REQUIRE(decode_decision_frames(encode_decision(logged)).has_value());
  SECTION("probability other than pmf[action]") { logged.decision.probability = 0.3; }
  SECTION("zero probability") {
    logged.decision.pmf = {0.0, 0.0, 0.5, 0.5};
    logged.decision.probability = 0.0;
  }
  SECTION("pmf not summing to one") { logged.decision.pmf[3] = 0.5; }
  SECTION("negative pmf entry") { logged.decision.pmf = {-0.25, 0.25, 0.5, 0.5}; }
  SECTION("pmf of the wrong length") { logged.decision.pmf.push_back(0.0); }
  SECTION("action out of range") { logged.decision.action = 4; }
  SECTION("item other than the chosen candidate's") { logged.decision.item += 1; }
  SECTION("truth of the wrong length") { logged.truth.pop_back(); }
  SECTION("non-finite truth") { logged.truth[0] = std::numeric_limits<double>::infinity(); }
  SECTION("non-finite feature") {
    logged.context.user[0] = std::numeric_limits<double>::quiet_NaN();
  }
  REQUIRE_FALSE(decode_decision_frames(encode_decision(logged)).has_value());
}

TEST_CASE("forged lengths are rejected without allocating them", "[feedback]") {
  SECTION("policy length of 4 GiB") {
    std::string payload;
    put_u32(payload, 0xFFFFFFFFu);
    payload += "short";
    const std::vector<std::string_view> parts{kDecisionTag, "e1", payload};
    REQUIRE_FALSE(decode_decision(parts).has_value());
  }
  SECTION("pmf count of 4 G entries") {
    Frames frames = encode_decision(sample_decision("e1"));
    // The pmf count follows policy (4 + 7 bytes), model_version, action, item,
    // probability and timestamp_us (8 + 4 + 8 + 8 + 8 bytes).
    const std::size_t offset = 4 + std::string("uniform").size() + 36;
    const std::uint32_t huge = 0xFFFFFFFFu;
    std::memcpy(frames[2].data() + offset, &huge, 4);
    REQUIRE_FALSE(decode_decision_frames(frames).has_value());
  }
  SECTION("payload over the limit") {
    Frames frames = encode_decision(sample_decision("e1"));
    frames[2].resize(kMaxPayloadBytes + 1);
    REQUIRE_FALSE(decode_decision_frames(frames).has_value());
  }
  SECTION("reward text over the limit") {
    REQUIRE_FALSE(decode_reward_text(std::string(kMaxNumberBytes, '1') + ".5", "1").has_value());
  }
}

TEST_CASE("the ranking slot survives the wire for decisions and interactions", "[feedback]") {
  LoggedDecision sent = sample_decision("e-slot", "ranker", 4, 2);
  sent.decision.slot = 2;
  const auto decision = decode_decision_frames(encode_decision(sent));
  REQUIRE(decision.has_value());
  CHECK(decision->decision.slot == 2);
  Interaction interaction{"e-slot", sent.context, 1, 0.25, 1.0, {}, "ranker"};
  interaction.slot = 7;
  const auto received = decode_interaction(views(encode_interaction(interaction)));
  REQUIRE(received.has_value());
  CHECK(received->slot == 7);
}

TEST_CASE("a decision with an empty pmf keeps only its probability", "[feedback]") {
  LoggedDecision sent = sample_decision("e-imported", "obd_random", 4, 1);
  sent.decision.pmf.clear();
  sent.decision.probability = 0.03;
  const auto received = decode_decision_frames(encode_decision(sent));
  REQUIRE(received.has_value());
  CHECK(received->decision.pmf.empty());
  CHECK(received->decision.probability == 0.03);
  sent.decision.probability = 0.0;  // the chosen action's probability is still required
  CHECK_FALSE(decode_decision_frames(encode_decision(sent)).has_value());
}

TEST_CASE("version 1 frames still decode, with slot 0", "[feedback]") {
  // A version 1 payload is the version 3 one without the u32 slot and the f64
  // conditional before the context; with no truth their offset is known.
  LoggedDecision sent = sample_decision("e-old", "uniform", 3, 1);
  sent.truth.clear();
  sent.decision.conditional = sent.decision.probability;
  Frames frames = decision_v3(sent);
  const std::size_t slot_offset = 4 + sent.decision.policy.size() + 36 + 4 + 8 * 3 + 4;
  frames[2].erase(slot_offset, 4 + 8);
  frames[0] = std::string(kDecisionTagV1);
  const auto decision = decode_decision_frames(frames);
  REQUIRE(decision.has_value());
  CHECK(decision->decision.slot == 0);
  // Slot 0: the conditional is the probability.
  CHECK(decision->decision.conditional == sent.decision.probability);
  CHECK(decision->context.items == sent.context.items);
  CHECK(decision->decision.pmf == sent.decision.pmf);
  // Version 1 always carried a pmf: an empty one is malformed there.
  LoggedDecision no_pmf = sent;
  no_pmf.decision.pmf.clear();
  Frames old_no_pmf = decision_v3(no_pmf);
  old_no_pmf[2].erase(4 + sent.decision.policy.size() + 36 + 4 + 4, 4 + 8);
  old_no_pmf[0] = std::string(kDecisionTagV1);
  CHECK_FALSE(decode_decision_frames(old_no_pmf).has_value());

  Interaction interaction{"e-old", sent.context, 1, 0.5, 1.0, {}, "p"};
  interaction.slot = 4;
  Frames int_frames = interaction_v3(interaction);
  // event id (4 + 5), policy (4 + 1), action, probability, reward (4 + 8 + 8), truth count 4
  int_frames[1].erase(4 + 5 + 4 + 1 + 20 + 4, 4 + 8);
  int_frames[0] = std::string(kInteractionTagV1);
  const auto old_interaction = decode_interaction(views(int_frames));
  REQUIRE(old_interaction.has_value());
  CHECK(old_interaction->slot == 0);
  CHECK(old_interaction->conditional == 0.5);
  CHECK(old_interaction->reward == 1.0);
}

TEST_CASE("version 2 frames still decode, with the conditional known only at slot 0",
          "[feedback]") {
  // A version 2 payload is the version 3 one without the f64 conditional
  // after the slot; with no truth its offset is known.
  LoggedDecision sent = sample_decision("e-v2", "ranker", 3, 1);
  sent.truth.clear();
  const std::uint32_t slot = GENERATE(0u, 2u);
  sent.decision.slot = slot;
  sent.decision.conditional = 0.75;
  Frames frames = decision_v3(sent);
  const std::size_t conditional_offset = 4 + sent.decision.policy.size() + 36 + 4 + 8 * 3 + 4 + 4;
  frames[2].erase(conditional_offset, 8);
  frames[0] = std::string(kDecisionTagV2);
  const auto decision = decode_decision_frames(frames);
  REQUIRE(decision.has_value());
  CHECK(decision->decision.slot == slot);
  CHECK(decision->decision.conditional == (slot == 0 ? sent.decision.probability : 0.0));
  CHECK(decision->decision.pmf == sent.decision.pmf);
  CHECK(decision->context.items == sent.context.items);
  // The same bytes under the version 3 tag are one f64 short.
  frames[0] = std::string(kDecisionTagV3);
  CHECK_FALSE(decode_decision_frames(frames).has_value());

  Interaction interaction{"e-v2", sent.context, 1, 0.5, 1.0, {}, "p"};
  interaction.slot = slot;
  interaction.conditional = 0.75;
  Frames int_frames = interaction_v3(interaction);
  // event id (4 + 4), policy (4 + 1), action, probability, reward (4 + 8 + 8),
  // truth count 4, slot 4
  int_frames[1].erase(4 + 4 + 4 + 1 + 20 + 4 + 4, 8);
  int_frames[0] = std::string(kInteractionTagV2);
  const auto received = decode_interaction(views(int_frames));
  REQUIRE(received.has_value());
  CHECK(received->slot == slot);
  CHECK(received->conditional == (slot == 0 ? 0.5 : 0.0));
}

TEST_CASE("a slot's conditional survives the wire and must be 0 or a probability",
          "[feedback]") {
  LoggedDecision sent = sample_decision("e-cond", "ranker", 4, 2);
  sent.decision.slot = 1;
  sent.decision.conditional = 1.0 / 3.0;
  const auto decision = decode_decision_frames(encode_decision(sent));
  REQUIRE(decision.has_value());
  CHECK(decision->decision.conditional == sent.decision.conditional);
  Interaction interaction{"e-cond", sent.context, 1, 0.25, 1.0, {}, "ranker"};
  interaction.slot = 1;
  interaction.conditional = 0.125;
  const auto received = decode_interaction(views(encode_interaction(interaction)));
  REQUIRE(received.has_value());
  CHECK(received->conditional == 0.125);

  const double bad = GENERATE(-0.25, 1.5, std::numeric_limits<double>::quiet_NaN());
  sent.decision.conditional = bad;
  interaction.conditional = bad;
  CHECK_FALSE(decode_decision_frames(encode_decision(sent)).has_value());
  CHECK_FALSE(decode_interaction(views(encode_interaction(interaction))).has_value());
}

TEST_CASE("a version 4 decision carries its session, step and flags", "[feedback]") {
  LoggedDecision sent = sample_decision("e-v4", "lin_ucb", 4, 2);
  sent.decision.session = "user-3/visit-9";
  sent.decision.step = 12;
  const bool skip_learning = GENERATE(false, true);
  const bool deferred = GENERATE(false, true);
  sent.decision.skip_learning = skip_learning;
  sent.decision.deferred = deferred;
  const Frames frames = encode_decision(sent);
  REQUIRE(frames[0] == kDecisionTag);
  const auto received = decode_decision_frames(frames);
  REQUIRE(received.has_value());
  CHECK(received->decision.session == "user-3/visit-9");
  CHECK(received->decision.step == 12);
  CHECK(received->decision.skip_learning == skip_learning);
  CHECK(received->decision.deferred == deferred);
  CHECK(received->decision.conditional == sent.decision.probability);
  CHECK(received->context.items == sent.context.items);
}

TEST_CASE("a decision with unknown flag bits or a bad session is rejected", "[feedback]") {
  LoggedDecision sent = sample_decision("e-v4", "p", 3, 1);
  sent.truth.clear();
  Frames frames = encode_decision(sent);
  // The flags byte follows the conditional, the empty session (4) and the step (4).
  const std::size_t flags_offset = 4 + 1 + 36 + 4 + 8 * 3 + 4 + 4 + 8 + 4 + 4;
  REQUIRE(frames[2][flags_offset] == 0);
  frames[2][flags_offset] = 4;
  CHECK_FALSE(decode_decision_frames(frames).has_value());
  sent.decision.session = "a\nb";
  CHECK_FALSE(decode_decision_frames(encode_decision(sent)).has_value());
  sent.decision.session = std::string(kMaxEventIdBytes + 1, 's');
  CHECK_FALSE(decode_decision_frames(encode_decision(sent)).has_value());
}

TEST_CASE("version 3 frames still decode, outside any session and with no flags",
          "[feedback]") {
  LoggedDecision sent = sample_decision("e-v3", "ranker", 3, 1);
  sent.decision.slot = 1;
  sent.decision.conditional = 0.75;
  const auto decision = decode_decision_frames(decision_v3(sent));
  REQUIRE(decision.has_value());
  CHECK(decision->decision.conditional == 0.75);
  CHECK(decision->decision.session.empty());
  CHECK(decision->decision.step == 0);
  CHECK_FALSE(decision->decision.skip_learning);
  CHECK_FALSE(decision->decision.deferred);
  CHECK(decision->truth == sent.truth);

  Interaction interaction{"e-v3", sent.context, 1, 0.5, 1.0, sent.truth, "p"};
  interaction.slot = 1;
  interaction.conditional = 0.25;
  const auto received = decode_interaction(views(interaction_v3(interaction)));
  REQUIRE(received.has_value());
  CHECK(received->conditional == 0.25);
  CHECK(received->session.empty());
  CHECK(received->truth == sent.truth);
}

TEST_CASE("a version 4 interaction carries its session and step", "[feedback]") {
  const LoggedDecision logged = sample_decision("e-int4", "softmax", 3, 2);
  Interaction sent{"e-int4", logged.context, 2, 0.25, -1.5, logged.truth, "softmax"};
  sent.session = "s-1";
  sent.step = 3;
  const Frames frames = encode_interaction(sent);
  REQUIRE(frames[0] == kInteractionTag);
  const auto received = decode_interaction(views(frames));
  REQUIRE(received.has_value());
  CHECK(received->session == "s-1");
  CHECK(received->step == 3);
  CHECK(received->reward == -1.5);
}

TEST_CASE("a reward id survives the wire, and a version 1 reward has none", "[feedback]") {
  const Frames frames = encode_reward(Reward{"e1", 0.5, 42, "purchase-2"});
  REQUIRE(frames[0] == kRewardTag);
  const auto received = decode_reward(views(frames));
  REQUIRE(received.has_value());
  CHECK(received->event_id == "e1");
  CHECK(received->reward_id == "purchase-2");
  CHECK(received->value == 0.5);
  CHECK(received->timestamp_us == 42);
  const std::vector<std::string_view> old{kRewardTagV1, "e1", "0.25", "7"};
  const auto v1 = decode_reward(old);
  REQUIRE(v1.has_value());
  CHECK(v1->reward_id.empty());
  CHECK(v1->value == 0.25);
  // A reward id is clean text like an event id.
  CHECK_FALSE(decode_reward(views(encode_reward(Reward{"e1", 0.5, 42, "a\tb"}))).has_value());
  // rew1's layout under the rew2 tag (and the reverse) is malformed.
  const std::vector<std::string_view> mixed{kRewardTag, "e1", "0.25", "7"};
  CHECK_FALSE(decode_reward(mixed).has_value());
}

TEST_CASE("an activation and its ack survive the wire", "[feedback]") {
  const Frames frames = encode_activation("e-act");
  REQUIRE(frames.size() == 2);
  REQUIRE(frames[0] == kActivationTag);
  const auto event_id = decode_activation(views(frames));
  REQUIRE(event_id.has_value());
  CHECK(*event_id == "e-act");
  CHECK_FALSE(decode_activation(views(encode_activation(""))).has_value());
  Frames extra = frames;
  extra.emplace_back("x");
  CHECK_FALSE(decode_activation(views(extra)).has_value());

  const Frames ack = encode_ack(EventKind::activation, "e-act");
  REQUIRE(ack == Frames{"ack1", "act", "e-act"});
  const auto decoded = decode_ack(views(ack));
  REQUIRE(decoded.has_value());
  CHECK(decoded->kind == EventKind::activation);
  CHECK(decoded->event_id == "e-act");
}

TEST_CASE("a reward's ack names its reward id when it has one", "[feedback]") {
  const Frames with_id = encode_ack(EventKind::reward, "e1", "r-2");
  REQUIRE(with_id == Frames{"ack1", "rew", "e1", "r-2"});
  const auto ack = decode_ack(views(with_id));
  REQUIRE(ack.has_value());
  CHECK(ack->kind == EventKind::reward);
  CHECK(ack->reward_id == "r-2");
  CHECK(encode_ack(EventKind::reward, "e1", "").size() == 3);
  // Only reward acks name a reward id, and never an empty one.
  CHECK_FALSE(decode_ack(views(Frames{"ack1", "dec", "e1", "r-2"})).has_value());
  CHECK_FALSE(decode_ack(views(Frames{"ack1", "rew", "e1", ""})).has_value());
}

// SPDX-License-Identifier: Apache-2.0
// Fuzzes every decoder of feedback/wire.h (decision dec1/dec2/dec3, interaction
// int1/int2/int3, reward, ack) on one message split by fuzz/parts.h. The
// decoders document no exceptions: bad frames give std::nullopt, so any throw,
// crash or sanitizer report is a finding. A decoded frame must satisfy the
// contract stated in wire.h, and re-encoding it must decode to the same event.
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <string_view>

#include "feedback/wire.h"
#include "fuzz/parts.h"

namespace {

void fail(const char* what) {
  std::fprintf(stderr, "wire contract violated: %s\n", what);
  std::abort();
}

// The probability contract of wire.h for a decoded decision.
void check_decision(const recloop::LoggedDecision& logged) {
  const recloop::Decision& d = logged.decision;
  const recloop::Context& c = logged.context;
  if (d.action >= c.size()) fail("action >= candidates");
  if (d.item != c.items[d.action]) fail("item is not the chosen candidate's id");
  if (!(d.probability > 0.0 && d.probability <= 1.0)) fail("probability outside (0, 1]");
  if (!d.pmf.empty()) {
    if (d.pmf.size() != c.size()) fail("pmf length differs from candidates");
    double sum = 0.0;
    for (double p : d.pmf) {
      if (!(p >= 0.0 && p <= 1.0)) fail("pmf entry outside [0, 1]");
      sum += p;
    }
    if (std::abs(sum - 1.0) > 1e-6) fail("pmf does not sum to 1");
    if (d.pmf[d.action] != d.probability) fail("pmf[action] != probability");
  }
  if (!(d.conditional == 0.0 || (d.conditional > 0.0 && d.conditional <= 1.0))) {
    fail("conditional neither 0 nor in (0, 1]");
  }
  if (!logged.truth.empty()) {
    if (logged.truth.size() != c.size()) fail("truth length differs from candidates");
    for (double t : logged.truth) {
      if (!std::isfinite(t)) fail("truth not finite");
    }
  }
}

std::vector<std::string_view> views(const recloop::Frames& frames) {
  return {frames.begin(), frames.end()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace recloop;
  const auto parts = fuzz::split_parts({reinterpret_cast<const char*>(data), size});

  if (const auto decision = decode_decision(parts)) {
    check_decision(*decision);
    const Frames again = encode_decision(*decision);
    const auto round = decode_decision(views(again));
    if (!round) fail("a decoded decision does not decode after re-encoding");
    if (round->decision.event_id != decision->decision.event_id || round->decision.pmf != decision->decision.pmf ||
        round->decision.probability != decision->decision.probability) {
      fail("a decoded decision changes on re-encoding");
    }
  }
  if (const auto interaction = decode_interaction(parts)) {
    if (interaction->action >= interaction->context.size()) fail("interaction action >= candidates");
    const Frames again = encode_interaction(*interaction);
    const auto round = decode_interaction(views(again));
    if (!round) fail("a decoded interaction does not decode after re-encoding");
    if (round->event_id != interaction->event_id || round->action != interaction->action) {
      fail("a decoded interaction changes on re-encoding");
    }
  }
  if (const auto reward = decode_reward(parts)) {
    if (!std::isfinite(reward->value)) fail("reward not finite");
    const Frames again = encode_reward(*reward);
    const auto round = decode_reward(views(again));
    if (!round || round->value != reward->value || round->timestamp_us != reward->timestamp_us) {
      fail("a decoded reward changes on re-encoding");
    }
  }
  if (const auto ack = decode_ack(parts)) {
    const Frames again = encode_ack(ack->kind, ack->event_id);
    const auto round = decode_ack(views(again));
    if (!round || round->kind != ack->kind || round->event_id != ack->event_id) {
      fail("a decoded ack changes on re-encoding");
    }
  }
  return 0;
}

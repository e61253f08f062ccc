// SPDX-License-Identifier: Apache-2.0
// Writes the seed corpus of the fuzz targets from the encoders, so every seed
// is a valid input: make_fuzz_corpus SOURCE_DIR writes SOURCE_DIR/fuzz/corpus/
// {wire,codec,dsjson,scenario}/. The older wire versions (dec1 .. dec3, int1
// .. int3, rew1), which no encoder writes, are laid out by hand from
// feedback/wire.h.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "core/codec.h"
#include "feedback/wire.h"
#include "fuzz/parts.h"
#include "logging/dsjson.h"

namespace {

using namespace recloop;
namespace fs = std::filesystem;

void write_file(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  if (!out) throw std::runtime_error(path.string() + ": cannot write");
}

template <typename T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

void put_string(std::string& out, const std::string& text) {
  put(out, static_cast<std::uint32_t>(text.size()));
  out += text;
}

void put_doubles(std::string& out, const std::vector<double>& values) {
  put(out, static_cast<std::uint32_t>(values.size()));
  out += encode_doubles(values);
}

// Three candidates with two user and two action features.
Context small_context() {
  Context context;
  context.user = Eigen::Vector2d(0.5, -1.25);
  context.actions.resize(2, 3);
  context.actions << 1.0, 0.0, 0.25, 0.0, 1.0, -0.75;
  context.items = {101, 202, 303};
  return context;
}

LoggedDecision sample_decision(std::uint32_t slot, double conditional, bool with_pmf) {
  LoggedDecision logged;
  logged.context = small_context();
  Decision& d = logged.decision;
  d.event_id = "ev-" + std::to_string(slot);
  d.action = 1;
  d.item = 202;
  d.probability = 0.5;
  if (with_pmf) d.pmf = {0.25, 0.5, 0.25};
  d.policy = "lin_ucb";
  d.model_version = 42;
  d.slot = slot;
  d.conditional = conditional;
  logged.truth = {0.1, 0.7, 0.3};
  logged.timestamp_us = 1612456289246000;
  return logged;
}

// A decision payload of version 1 (no slot, no conditional), 2 (slot, no
// conditional) or 3 (slot and conditional, no session, step or flags).
std::string old_decision_payload(const LoggedDecision& logged, int version) {
  const Decision& d = logged.decision;
  std::string payload;
  put_string(payload, d.policy);
  put(payload, static_cast<std::uint64_t>(d.model_version));
  put(payload, static_cast<std::uint32_t>(d.action));
  put(payload, static_cast<std::uint64_t>(d.item));
  put(payload, d.probability);
  put(payload, static_cast<std::int64_t>(logged.timestamp_us));
  put_doubles(payload, d.pmf);
  put_doubles(payload, logged.truth);
  if (version >= 2) put(payload, static_cast<std::uint32_t>(d.slot));
  if (version >= 3) put(payload, d.conditional);
  payload += encode_context(logged.context);
  return payload;
}

Interaction sample_interaction() {
  Interaction interaction;
  interaction.event_id = "ev-7";
  interaction.context = small_context();
  interaction.action = 2;
  interaction.probability = 0.25;
  interaction.reward = 1.0;
  interaction.truth = {0.1, 0.7, 0.3};
  interaction.policy = "epsilon_greedy";
  interaction.slot = 1;
  interaction.conditional = 0.5;
  return interaction;
}

std::string old_interaction_payload(const Interaction& interaction, int version) {
  std::string payload;
  put_string(payload, interaction.event_id);
  put_string(payload, interaction.policy);
  put(payload, static_cast<std::uint32_t>(interaction.action));
  put(payload, interaction.probability);
  put(payload, interaction.reward);
  put_doubles(payload, interaction.truth);
  if (version >= 2) put(payload, static_cast<std::uint32_t>(interaction.slot));
  if (version >= 3) put(payload, interaction.conditional);
  payload += encode_context(interaction.context);
  return payload;
}

void write_wire(const fs::path& dir) {
  const auto frames = [](const Frames& parts) { return fuzz::join_parts(parts); };
  write_file(dir / "decision_v4", frames(encode_decision(sample_decision(0, 0.0, true))));
  write_file(dir / "decision_v4_slot", frames(encode_decision(sample_decision(2, 0.5, false))));
  LoggedDecision in_session = sample_decision(0, 0.0, true);
  in_session.decision.session = "user-5/visit-2";
  in_session.decision.step = 3;
  in_session.decision.skip_learning = true;
  in_session.decision.deferred = true;
  write_file(dir / "decision_v4_session", frames(encode_decision(in_session)));
  const LoggedDecision v3 = sample_decision(2, 0.5, true);
  write_file(dir / "decision_v3", frames({std::string(kDecisionTagV3), v3.decision.event_id,
                                          old_decision_payload(v3, 3)}));
  const LoggedDecision v2 = sample_decision(1, 0.0, false);
  write_file(dir / "decision_v2", frames({std::string(kDecisionTagV2), v2.decision.event_id,
                                          old_decision_payload(v2, 2)}));
  const LoggedDecision v1 = sample_decision(0, 0.0, true);
  write_file(dir / "decision_v1", frames({std::string(kDecisionTagV1), v1.decision.event_id,
                                          old_decision_payload(v1, 1)}));
  Interaction interaction = sample_interaction();
  write_file(dir / "interaction_v3",
             frames({std::string(kInteractionTagV3), old_interaction_payload(interaction, 3)}));
  write_file(dir / "interaction_v2",
             frames({std::string(kInteractionTagV2), old_interaction_payload(interaction, 2)}));
  write_file(dir / "interaction_v1",
             frames({std::string(kInteractionTagV1), old_interaction_payload(interaction, 1)}));
  write_file(dir / "reward", frames({std::string(kRewardTagV1), "ev-1", "-0.125",
                                     "1612456289246000"}));
  write_file(dir / "reward_v2",
             frames(encode_reward(Reward{"ev-1", -0.125, 1612456289246000, "click-1"})));
  write_file(dir / "activation", frames(encode_activation("ev-1")));
  write_file(dir / "ack_decision", frames(encode_ack(EventKind::decision, "ev-1")));
  write_file(dir / "ack_reward", frames(encode_ack(EventKind::reward, "ev-1")));
  write_file(dir / "ack_reward_id", frames(encode_ack(EventKind::reward, "ev-1", "click-1")));
  write_file(dir / "ack_activation", frames(encode_ack(EventKind::activation, "ev-1")));
  interaction.session = "user-5/visit-2";
  interaction.step = 3;
  write_file(dir / "interaction_v4", frames(encode_interaction(interaction)));
}

void write_codec(const fs::path& dir) {
  write_file(dir / "context", encode_context(small_context()));
  Context user_only;
  user_only.user = Eigen::Vector3d(1.0, 2.0, 3.0);
  user_only.actions.resize(0, 2);
  user_only.items = {5, 6};
  write_file(dir / "context_user_only", encode_context(user_only));
  write_file(dir / "context_empty", encode_context(Context{}));
  const std::vector<double> doubles = {0.25, 0.5, 0.25};
  write_file(dir / "doubles", encode_doubles(doubles));
}

void write_dsjson(const fs::path& source, const fs::path& dir) {
  const fs::path sample = source / "tests" / "data" / "dsjson" / "sample.dsjson";
  std::ifstream in(sample, std::ios::binary);
  if (!in) throw std::runtime_error(sample.string() + ": cannot open");
  std::stringstream whole;
  whole << in.rdbuf();
  write_file(dir / "sample_file", whole.str());
  std::istringstream lines(whole.str());
  std::string line;
  for (int i = 1; std::getline(lines, line); ++i) {
    if (!line.empty()) write_file(dir / ("sample_line_" + std::to_string(i)), line + "\n");
  }
  DsjsonEvent event;
  event.logged = sample_decision(0, 0.0, true);
  event.reward = 1.0;
  write_file(dir / "exported_line", to_dsjson_line(event) + "\n");
}

void write_scenario(const fs::path& source, const fs::path& dir) {
  const fs::path ini = source / "scenarios" / "default.ini";
  std::ifstream in(ini, std::ios::binary);
  if (!in) throw std::runtime_error(ini.string() + ": cannot open");
  std::stringstream whole;
  whole << in.rdbuf();
  write_file(dir / "default_ini", whole.str());
  write_file(dir / "small_ini", "; comment\n[run]\nseed = 7\nrounds = 1000\n\n[lin_ucb]\nalpha = 0.5\n"
                                "# another comment\n[epsilon_greedy]\nepsilon = 0.1\n");
  write_file(dir / "overrides", "lin_ucb.alpha=0.25\nrun.policies = lin_ucb, epsilon_greedy\n"
                                "run.verbose=true\nsimulator.items=50\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_fuzz_corpus SOURCE_DIR\n";
    return 2;
  }
  const fs::path source = argv[1];
  const fs::path corpus = source / "fuzz" / "corpus";
  try {
    write_wire(corpus / "wire");
    write_codec(corpus / "codec");
    write_dsjson(source, corpus / "dsjson");
    write_scenario(source, corpus / "scenario");
  } catch (const std::exception& e) {
    std::cerr << "make_fuzz_corpus: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

// SPDX-License-Identifier: Apache-2.0
// The `recloop sessions` verb, run as a user runs it: the real binary.
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/process.h"

using namespace recloop;
using Catch::Matchers::Contains;

namespace {
const std::string kBinary = RECLOOP_BINARY;
const std::string kScenarios = std::string(RECLOOP_SOURCE_DIR) + "/scenarios";

// Writes `text` to a fresh scenario file and returns its path.
std::string write_scenario(const std::string& stem, const std::string& text) {
  const std::string path = testing::temp_path(stem) + ".ini";
  std::ofstream(path) << text;
  return path;
}

// A small session world: few items, short sessions, so a run takes well under a second.
const std::string kSmallWorld =
    "[simulator]\nworld = session\nn_items = 60\ncandidates = 6\nn_users = 100\n"
    "session_max_steps = 20\nclickbait_share = 0.3\n";

// The --json object of a run that must succeed.
nlohmann::json run_json(const std::string& arguments) {
  const auto result = testing::run_command(kBinary + " sessions " + arguments + " --json -q");
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  return nlohmann::json::parse(result.out);
}

bool lists_policy(const nlohmann::json& report, const std::string& name) {
  for (const auto& p : report.at("policies")) {
    if (p.at("policy") == name) return true;
  }
  return false;
}
}  // namespace

TEST_CASE("sessions --help describes the verb and exits 0", "[cli][integration]") {
  const auto result = testing::run_command(kBinary + " sessions --help");
  REQUIRE(result.exit_code == 0);
  REQUIRE_THAT(result.out, Contains("--sessions") && Contains("--set") && Contains("--json") &&
                               Contains("myopic_oracle"));
}

TEST_CASE("sessions runs the streaming fatigue scenario and lists every policy",
          "[cli][integration]") {
  const auto result = testing::run_command(kBinary + " sessions " + kScenarios +
                                           "/streaming_fatigue.ini --sessions 30");
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  for (const char* name : {"epsilon_greedy", "lin_ucb", "myopic_oracle", "clean_oracle", "random"}) {
    REQUIRE_THAT(result.out, Contains(name));
  }
  REQUIRE_THAT(result.out, Contains("paired differences"));
  REQUIRE_THAT(result.err, Contains("30 / 30 sessions"));  // progress goes to stderr
}

TEST_CASE("sessions runs the drift scenario and lists every policy, frozen copies too",
          "[cli][integration]") {
  const auto report = run_json(kScenarios + "/drift.ini --sessions 30");
  REQUIRE(report.at("sessions") == 30);
  REQUIRE(report.at("world") == "session");
  for (const char* name : {"lin_ucb", "lin_ucb/frozen", "myopic_oracle", "random"}) {
    INFO(name);
    REQUIRE(lists_policy(report, name));
  }
}

TEST_CASE("sessions --json parses and its summaries are consistent", "[cli][integration]") {
  const std::string path = write_scenario(
      "sessions-json", kSmallWorld + "[sessions]\npolicies = epsilon_greedy\nsessions = 40\n");
  const auto report = run_json(path);
  REQUIRE(report.at("policies").size() == 4);  // epsilon_greedy and three references
  for (const auto& p : report.at("policies")) {
    const auto& v = p.at("value");
    REQUIRE(v.at("lower").get<double>() <= v.at("mean").get<double>());
    REQUIRE(v.at("mean").get<double>() <= v.at("upper").get<double>());
    REQUIRE(p.at("mean_length").get<double>() >= 1.0);
    REQUIRE(p.at("mean_length").get<double>() <= 20.0);  // session_max_steps
  }
  // The myopic oracle has the highest first-step expected reward by construction.
  REQUIRE(report.at("best_myopic") == "myopic_oracle");
  // 4 policies: every ordered pair.
  REQUIRE(report.at("differences").size() == 12);
}

TEST_CASE("a policy compared with an identical copy under CRN differs by exactly 0",
          "[cli][integration]") {
  // Same sessions, same event ids and run seed, same online updates: the two
  // copies make the same decisions, so every paired difference is 0.
  const std::string path = write_scenario(
      "sessions-copy",
      kSmallWorld + "[sessions]\npolicies = lin_ucb, lin_ucb, epsilon_greedy, epsilon_greedy\n");
  const auto report = run_json(path + " --sessions 25");
  REQUIRE(lists_policy(report, "lin_ucb#2"));
  REQUIRE(lists_policy(report, "epsilon_greedy#2"));
  int copies = 0;
  for (const auto& d : report.at("differences")) {
    const std::string p = d.at("policy"), q = d.at("minus");
    if (p + "#2" != q) continue;
    ++copies;
    REQUIRE(d.at("value").at("mean").get<double>() == 0.0);
    REQUIRE(d.at("value").at("std_error").get<double>() == 0.0);
    REQUIRE(d.at("expected_value").at("mean").get<double>() == 0.0);
  }
  REQUIRE(copies == 2);
  // The sessions themselves vary, so the zero is the pairing's, not a constant run.
  for (const auto& p : report.at("policies")) {
    if (p.at("policy") == "lin_ucb") REQUIRE(p.at("value").at("std_error").get<double>() > 0.0);
  }
}

TEST_CASE("sessions rejects a world that is not a session world", "[cli][integration]") {
  const std::string path = write_scenario("sessions-population",
                                          "[simulator]\nworld = population\n");
  const auto result = testing::run_command(kBinary + " sessions " + path);
  REQUIRE(result.exit_code == 2);
  REQUIRE_THAT(result.err, Contains(path) && Contains("world") && Contains("session world"));
  REQUIRE(result.err.find('\n') == result.err.size() - 1);  // one line
}

TEST_CASE("sessions rejects a scenario without a world", "[cli][integration]") {
  const std::string path = write_scenario("sessions-noworld", "[sessions]\nsessions = 10\n");
  const auto result = testing::run_command(kBinary + " sessions " + path);
  REQUIRE(result.exit_code == 2);
  REQUIRE_THAT(result.err, Contains(path) && Contains("world is not set"));
}

TEST_CASE("sessions names an unknown policy", "[cli][integration]") {
  const std::string path =
      write_scenario("sessions-unknown", kSmallWorld + "[sessions]\npolicies = lin_ucbb\n");
  const auto result = testing::run_command(kBinary + " sessions " + path);
  REQUIRE(result.exit_code == 2);
  REQUIRE_THAT(result.err, Contains("unknown policy 'lin_ucbb'"));
}

TEST_CASE("sessions names an unknown key of its section", "[cli][integration]") {
  const std::string path =
      write_scenario("sessions-key", kSmallWorld + "[sessions]\nsesions = 10\n");
  const auto result = testing::run_command(kBinary + " sessions " + path);
  REQUIRE(result.exit_code == 2);
  REQUIRE_THAT(result.err, Contains(path) && Contains("[sessions]") && Contains("sesions"));
}

TEST_CASE("sessions fails for a missing scenario file", "[cli][integration]") {
  const auto result = testing::run_command(kBinary + " sessions /nonexistent/s.ini");
  REQUIRE(result.exit_code == 2);
  REQUIRE_THAT(result.err, Contains("/nonexistent/s.ini"));
}

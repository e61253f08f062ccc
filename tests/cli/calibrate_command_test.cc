// SPDX-License-Identifier: Apache-2.0
// The `recloop calibrate` verb, run as a user runs it: the real binary on a
// SQLite log of a biased ranker in a known population world.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "logging/event_log.h"
#include "tests/simulator/calibration_fixtures.h"
#include "tests/support/process.h"

using namespace recloop;
using Catch::Matchers::Contains;

namespace {
const std::string kBinary = RECLOOP_BINARY;

// Writes `spec.requests` rankings of the production ranker to a log at `path`.
void write_ranking_log(const std::string& path, const PopulationWorld& world,
                       const testing::CalibrationLogSpec& spec) {
  EventLog log(path);
  std::vector<LoggedDecision> decisions;
  std::vector<Reward> rewards;
  testing::generate_calibration_log(world, spec, [&](const Interaction& i) {
    LoggedDecision d;
    d.decision.event_id = i.event_id;
    d.decision.action = i.action;
    d.decision.item = i.context.items[i.action];
    d.decision.probability = i.probability;
    d.decision.conditional = i.conditional;
    d.decision.slot = i.slot;
    d.decision.policy = i.policy;
    d.context = i.context;
    decisions.push_back(std::move(d));
    rewards.push_back({.event_id = i.event_id, .value = i.reward});
    if (decisions.size() == 2000) {
      log.write(decisions, rewards);
      decisions.clear();
      rewards.clear();
    }
  });
  log.write(decisions, rewards);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void remove_log(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}
}  // namespace

TEST_CASE("calibrate --help describes the verb and exits 0", "[cli][integration]") {
  const auto result = testing::run_command(kBinary + " calibrate --help");
  REQUIRE(result.exit_code == 0);
  REQUIRE_THAT(result.out, Contains("--log") && Contains("--out") && Contains("--naive"));
}

TEST_CASE("calibrate writes a population scenario that simulate runs", "[cli][integration]") {
  const PopulationWorld world(
      testing::calibration_world(ChoiceModelKind::kMultiClick, 1.0));
  const auto log_path = testing::temp_path("calibrate.db");
  const auto out_path = testing::temp_path("calibrated.ini");
  const auto items_path = std::filesystem::path(out_path).replace_extension(".items.csv").string();
  write_ranking_log(log_path, world, {.requests = 5000});
  const auto result = testing::run_command(kBinary + " calibrate --log " + log_path + " --out " +
                                           out_path + " --popularity-row 0");
  INFO(result.out << result.err);
  REQUIRE(result.exit_code == 0);
  CHECK_THAT(result.out, Contains("theta") && Contains("position_decay") &&
                             Contains("multi_click") && Contains("20000 logged slots"));
  const std::string ini = read_text(out_path);
  CHECK_THAT(ini, Contains("[simulator]") && Contains("world = population") &&
                      Contains("choice_model = multi_click") && Contains("n_items = 40") &&
                      Contains("candidates = 8") && Contains(items_path));
  const std::string items = read_text(items_path);
  CHECK(std::count(items.begin(), items.end(), '\n') == 41);  // header + 40 items
  // The factor fit's columns: item_bias and one factor per user feature (6).
  CHECK_THAT(items, Contains("log_popularity,item_bias,factor_0,") && Contains(",factor_5\n"));
  CHECK_THAT(result.out, Contains("with item factors"));
  const auto run = testing::run_command(kBinary + " simulate " + out_path +
                                        " --set run.steps=50 -q");
  INFO(run.out << run.err);
  CHECK(run.exit_code == 0);
  const auto naive = testing::run_command(kBinary + " calibrate --naive --log " + log_path +
                                          " --out " + out_path);
  CHECK(naive.exit_code == 0);
  CHECK_THAT(read_text(out_path), Contains("unweighted"));
  const auto no_factors = testing::run_command(kBinary + " calibrate --factor-iterations 0 --log " +
                                               log_path + " --out " + out_path);
  CHECK(no_factors.exit_code == 0);
  CHECK_THAT(read_text(items_path), !Contains("item_bias"));
  CHECK_THAT(no_factors.out, !Contains("with item factors"));
  remove_log(log_path);
  std::filesystem::remove(out_path);
  std::filesystem::remove(items_path);
}

TEST_CASE("calibrate refuses a log without rankings with one line naming the log",
          "[cli][integration]") {
  const auto log_path = testing::temp_path("calibrate-single.db");
  {
    EventLog log(log_path);
    LoggedDecision d;
    d.decision.event_id = "e1";
    d.decision.item = 3;
    d.decision.probability = 0.5;
    d.context.items = {3, 4};
    d.context.actions = Eigen::MatrixXd::Zero(1, 2);
    d.context.user = Eigen::VectorXd::Zero(1);
    log.write({d}, {{.event_id = "e1", .value = 1.0}});
  }
  const auto single = testing::run_command(kBinary + " calibrate --log " + log_path +
                                           " --out /nonexistent/x.ini");
  CHECK(single.exit_code == 1);
  CHECK_THAT(single.err, Contains(log_path) && Contains("2 or more slots"));
  CHECK(std::count(single.err.begin(), single.err.end(), '\n') == 1);
  remove_log(log_path);
  {
    EventLog empty(log_path);
  }
  const auto none = testing::run_command(kBinary + " calibrate --log " + log_path +
                                         " --out /nonexistent/x.ini");
  CHECK(none.exit_code == 1);
  CHECK_THAT(none.err, Contains(log_path) && Contains("no rewarded decisions"));
  remove_log(log_path);
  const auto missing = testing::run_command(kBinary + " calibrate --log " + log_path + ".none --out x.ini");
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Contains(".none"));
}

// SPDX-License-Identifier: Apache-2.0
#include "logging/slate_log.h"

#include "core/error.h"
#include "logging/event_log.h"
#include "tests/logging/fixtures.h"
#include "tests/logging/sql_fixtures.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace recloop;
using recloop::testing::sample_decision;
using recloop::testing::sample_reward;
using recloop::testing::TempDir;
using recloop::testing::kDropVersion4Sql;
using recloop::testing::run_sql;

namespace {

// Slot k of ranking `id` over the 4 candidates of sample_decision(seed 1):
// candidate `action`, marginal and conditional as given.
LoggedDecision slot(const std::string& id, std::uint32_t k, ActionId action, double marginal,
                    double conditional, const std::string& policy = "plackett_luce:weighted") {
  LoggedDecision logged = sample_decision(id + "/" + std::to_string(k), policy, 4, 1);
  Decision& d = logged.decision;
  d.slot = k;
  d.action = action;
  d.item = logged.context.items[action];
  d.pmf.clear();  // only the slot's marginal is needed here
  d.probability = marginal;
  d.conditional = conditional;
  return logged;
}

}  // namespace

TEST_CASE("slot rows are grouped into rankings in the order their first slot was stored",
          "[logging][integration]") {
  TempDir dir;
  const std::string path = dir.file("slates.db");
  {
    EventLog log(path);
    // Two interleaved rankings, slots out of order, and a single decision.
    log.write({slot("b", 1, 3, 0.25, 0.5), slot("a", 0, 2, 0.4, 0.4), sample_decision("single"),
               slot("a", 1, 0, 0.3, 0.6), slot("b", 0, 1, 0.2, 0.2)},
              {sample_reward("a/0", 1.0), sample_reward("a/1", 0.0), sample_reward("b/0", 0.0),
               sample_reward("b/1", 1.0), sample_reward("single", 1.0)});
  }
  SlateLogSummary summary;
  const auto slates = read_slates(path, {}, &summary);
  CHECK(summary.slates == 2);
  CHECK(summary.incomplete == 0);
  CHECK(summary.other_decisions == 1);
  CHECK(summary.unknown_conditionals == 0);
  REQUIRE(slates.size() == 2);
  CHECK(slates[0].event_id == "b");
  CHECK(slates[1].event_id == "a");
  const LoggedSlate& a = slates[1];
  CHECK(a.policy == "plackett_luce:weighted");
  REQUIRE(a.slots.size() == 2);
  CHECK(a.slots[0].action == 2);
  CHECK(a.slots[0].item == a.context.items[2]);
  CHECK(a.slots[0].marginal == 0.4);
  CHECK(a.slots[0].conditional == 0.4);
  CHECK(a.slots[0].reward == 1.0);
  CHECK(a.slots[1].action == 0);
  CHECK(a.slots[1].marginal == 0.3);
  CHECK(a.slots[1].conditional == 0.6);
  CHECK(a.slots[1].reward == 0.0);
  CHECK(a.probability() == 0.4 * 0.6);
  CHECK(read_slates(path, "other-policy").empty());
}

TEST_CASE("rankings missing a slot or a reward are skipped and counted", "[logging][integration]") {
  TempDir dir;
  const std::string path = dir.file("slates.db");
  {
    EventLog log(path);
    log.write({slot("gap", 0, 0, 0.5, 0.5), slot("gap", 2, 1, 0.5, 0.5),    // no slot 1
               slot("quiet", 0, 0, 0.5, 0.5), slot("quiet", 1, 1, 0.5, 0.5),  // slot 1 unrewarded
               slot("full", 0, 0, 0.5, 0.5)},
              {sample_reward("gap/0"), sample_reward("gap/2"), sample_reward("quiet/0"),
               sample_reward("full/0")});
  }
  SlateLogSummary summary;
  const auto slates = read_slates(path, {}, &summary);
  REQUIRE(slates.size() == 1);
  CHECK(slates[0].event_id == "full");
  CHECK(summary.incomplete == 2);
}

TEST_CASE("event ids whose suffix is not the stored slot are not ranking slots",
          "[logging][integration]") {
  TempDir dir;
  const std::string path = dir.file("slates.db");
  {
    EventLog log(path);
    LoggedDecision path_like = sample_decision("user/7");  // slot 0, suffix 7
    LoggedDecision leading_zero = slot("z", 0, 0, 0.5, 0.5);
    leading_zero.decision.event_id = "z/00";
    log.write({path_like, leading_zero}, {sample_reward("user/7"), sample_reward("z/00")});
  }
  SlateLogSummary summary;
  CHECK(read_slates(path, {}, &summary).empty());
  CHECK(summary.other_decisions == 2);
}

TEST_CASE("slots of one ranking with different contexts are refused naming the event",
          "[logging][integration]") {
  TempDir dir;
  const std::string path = dir.file("slates.db");
  {
    EventLog log(path);
    LoggedDecision moved = slot("r", 1, 1, 0.5, 0.5);
    moved.context.user(0) += 1.0;
    log.write({slot("r", 0, 0, 0.5, 0.5), moved}, {sample_reward("r/0"), sample_reward("r/1")});
  }
  REQUIRE_THROWS_AS(read_slates(path), Error);
  REQUIRE_THROWS_WITH(read_slates(path), Catch::Contains("r/1") && Catch::Contains(path));
}

TEST_CASE("rankings from a version 2 log read with their conditionals unknown after slot 0",
          "[logging][integration]") {
  TempDir dir;
  const std::string path = dir.file("v2.db");
  {
    EventLog log(path);
    log.write({slot("r", 0, 2, 0.4, 0.4), slot("r", 1, 0, 0.3, 0.6)},
              {sample_reward("r/0"), sample_reward("r/1")});
  }
  // Back to the version 2 layout: without the version 4 tables and columns and
  // without the conditional.
  run_sql(path, std::string(kDropVersion4Sql) +
                    "ALTER TABLE decisions DROP COLUMN conditional;"
          "UPDATE schema_version SET version = 2;");
  SlateLogSummary summary;
  const auto slates = read_slates(path, {}, &summary);  // migrates the file
  REQUIRE(slates.size() == 1);
  CHECK(summary.unknown_conditionals == 1);
  CHECK(slates[0].slots[0].conditional == 0.4);  // slot 0: the marginal
  CHECK(slates[0].slots[1].conditional == 0.0);  // not recorded
  CHECK(slates[0].probability() == 0.0);
}

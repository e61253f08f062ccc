// SPDX-License-Identifier: Apache-2.0
// `recloop import dsjson` and `recloop export dsjson`, run as a user runs them:
// the real binary, on the handwritten sample and on a simulator's log.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "logging/dsjson.h"
#include "tests/support/process.h"

using namespace recloop;
using Catch::Matchers::Contains;

namespace {
const std::string kBinary = RECLOOP_BINARY;
const std::string kSample = std::string(RECLOOP_SOURCE_DIR) + "/tests/data/dsjson/sample.dsjson";

std::vector<DsjsonEvent> stored_events(const std::string& path) {
  std::vector<DsjsonEvent> events;
  for_each_logged_event(path, [&](const DsjsonEvent& e) { events.push_back(e); });
  return events;
}

// Removes the files it names at scope exit.
struct Files {
  std::vector<std::string> paths;
  ~Files() {
    for (const auto& path : paths) {
      std::error_code ignored;
      for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix, ignored);
    }
  }
};
}  // namespace

TEST_CASE("export --help and import --help describe DSJSON", "[cli][integration]") {
  const auto export_help = testing::run_command(kBinary + " export --help");
  REQUIRE(export_help.exit_code == 0);
  CHECK_THAT(export_help.out, Contains("dsjson") && Contains("--log") && Contains("--out") &&
                                  Contains("--cb_explore_adf"));
  const auto import_help = testing::run_command(kBinary + " import --help");
  REQUIRE(import_help.exit_code == 0);
  CHECK_THAT(import_help.out, Contains("dsjson FILE") && Contains("_skipLearn"));
  const auto verbs = testing::run_command(kBinary + " --help");
  CHECK_THAT(verbs.out, Contains("export"));
}

TEST_CASE("a simulator's log exported to DSJSON imports back to the same interactions",
          "[cli][integration]") {
  Files files{{testing::temp_path("sim.db"), testing::temp_path("sim.dsjson"), testing::temp_path("back.db")}};
  const std::string& log = files.paths[0];
  const std::string& dsjson = files.paths[1];
  const std::string& back = files.paths[2];
  const auto simulated =
      testing::run_command(kBinary + " simulate -q --set run.steps=150 --log " + log);
  INFO(simulated.err);
  REQUIRE(simulated.exit_code == 0);
  const auto exported = testing::run_command(kBinary + " export dsjson --log " + log + " --out " + dsjson);
  INFO(exported.err);
  REQUIRE(exported.exit_code == 0);
  CHECK_THAT(exported.out, Contains("450 decisions"));
  const auto imported = testing::run_command(kBinary + " import dsjson " + dsjson + " --out " + back);
  INFO(imported.err);
  REQUIRE(imported.exit_code == 0);
  CHECK_THAT(imported.out, Contains("450 decisions") && Contains("(450 new)"));

  const auto original = stored_events(log);
  const auto again = stored_events(back);
  REQUIRE(original.size() == 450);  // 3 policies x 150 requests
  REQUIRE(again.size() == original.size());
  // LinUCB is greedy, so its pmfs hold zeros: the export must keep them.
  CHECK(std::any_of(original.begin(), original.end(), [](const DsjsonEvent& e) {
    return std::count(e.logged.decision.pmf.begin(), e.logged.decision.pmf.end(), 0.0) > 0;
  }));
  for (std::size_t i = 0; i < original.size(); ++i) {
    const LoggedDecision& o = original[i].logged;
    const LoggedDecision& a = again[i].logged;
    INFO("event " << o.decision.event_id);
    REQUIRE(a.decision.event_id == o.decision.event_id);
    CHECK(a.context.user == o.context.user);
    CHECK(a.context.actions == o.context.actions);
    CHECK(a.context.items == o.context.items);
    CHECK(a.decision.action == o.decision.action);
    CHECK(a.decision.item == o.decision.item);
    CHECK(a.decision.probability == o.decision.probability);
    CHECK(a.decision.pmf == o.decision.pmf);
    CHECK(again[i].reward == original[i].reward);
    CHECK(a.timestamp_us == o.timestamp_us);
  }
}

TEST_CASE("import dsjson stores rewards, unlabelled decisions and skip-learn lines", "[cli][integration]") {
  Files files{{testing::temp_path("sample.db"), testing::temp_path("sample.dsjson")}};
  const auto imported = testing::run_command(kBinary + " import dsjson " + kSample + " --out " + files.paths[0]);
  INFO(imported.err);
  REQUIRE(imported.exit_code == 0);
  CHECK_THAT(imported.out, Contains("3 decisions (2 with reward, 1 _skipLearn"));
  const auto events = stored_events(files.paths[0]);
  REQUIRE(events.size() == 3);
  CHECK_FALSE(events[1].reward.has_value());
  CHECK(events[2].logged.decision.policy == "dsjson_skip_learn");

  const auto exported =
      testing::run_command(kBinary + " export dsjson --log " + files.paths[0] + " --out " + files.paths[1]);
  REQUIRE(exported.exit_code == 0);
  CHECK_THAT(exported.out, Contains("3 decisions (2 with reward, 1 _skipLearn)"));
  std::ifstream in(files.paths[1]);
  std::string first;
  std::getline(in, first);
  CHECK_THAT(first, Contains(R"("_label_cost":-1.0)") && Contains(R"("EventId":"ev-1")"));
}

TEST_CASE("a bad DSJSON line fails the import with one line naming file, line and field",
          "[cli][integration]") {
  Files files{{testing::temp_path("bad.dsjson"), testing::temp_path("bad.db")}};
  std::ifstream sample(kSample);
  std::string first;
  std::getline(sample, first);
  const auto at = first.find(R"("p":[0.5,0.25,0.25])");
  REQUIRE(at != std::string::npos);
  std::ofstream(files.paths[0]) << first << "\n" << std::string(first).replace(at, 19, R"("p":[0.5,0.25])") << "\n";
  const auto result = testing::run_command(kBinary + " import dsjson " + files.paths[0] + " --out " + files.paths[1]);
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.err, Contains(files.paths[0] + ":2:") && Contains("field 'p'"));
  CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
}

TEST_CASE("export dsjson without a log, or of an unknown format, exits 2", "[cli][integration]") {
  const auto missing = testing::run_command(kBinary + " export dsjson --log /nonexistent/run.db --out /tmp/x");
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Contains("/nonexistent/run.db"));
  const auto unknown = testing::run_command(kBinary + " export parquet --log a.db --out b");
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Contains("parquet"));
}

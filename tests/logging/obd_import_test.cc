// SPDX-License-Identifier: Apache-2.0
// Open Bandit Dataset import, on tiny folders written by the tests in the
// dataset's own layout, and on the shipped samples.
#include "logging/obd_import.h"

#include "core/error.h"
#include "tests/logging/fixtures.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

using namespace recloop;
using recloop::testing::TempDir;
using Catch::Matchers::Contains;

namespace {

const std::string kHeader =
    ",timestamp,item_id,position,click,propensity_score,user_feature_0,user_feature_1,"
    "user_feature_2,user_feature_3,user-item_affinity_0,user-item_affinity_1\n";

// A campaign folder DIR/random/tiny with two items and the given data rows.
std::string write_campaign(const TempDir& dir, const std::string& rows) {
  const std::filesystem::path folder = std::filesystem::path(dir.file("random")) / "tiny";
  std::filesystem::create_directories(folder);
  std::ofstream(folder / "item_context.csv")
      << ",item_id,item_feature_0,item_feature_1,item_feature_2,item_feature_3\n"
         "0,1,0.5,zz,b,c\n"
         "1,0,-1.5,aa,b,c\n";
  std::ofstream(folder / "tiny.csv") << kHeader << rows;
  return folder.string();
}

const std::string kRows =
    "0,2019-11-24 00:03:13.442536+00:00,1,3,1,0.5,u1,v,w,x,0.0,0.0\n"
    "1,2019-11-24 00:03:14+00:00,0,1,0,0.5,u0,v,w,x,0.0,1.0\n";

}  // namespace

TEST_CASE("an OBD row becomes a decision with slot, probability, reward and one-hot features",
          "[logging][integration]") {
  TempDir dir;
  const auto folders = find_obd_folders(write_campaign(dir, kRows));
  REQUIRE(folders.size() == 1);
  CHECK(folders[0].policy == "random");
  CHECK(folders[0].campaign == "tiny");
  const ImportedLog log = read_obd(folders[0]);
  REQUIRE(log.decisions.size() == 2);
  const LoggedDecision& first = log.decisions[0];
  CHECK(first.decision.event_id == "random-tiny-0");
  CHECK(first.decision.policy == "obd_random");
  // Candidates in item_id order: item 0 then item 1; row 0 chose item 1.
  CHECK(first.context.items == std::vector<ItemId>{0, 1});
  CHECK(first.decision.action == 1);
  CHECK(first.decision.item == 1);
  CHECK(first.decision.slot == 2);
  CHECK(first.decision.probability == 0.5);
  CHECK(first.decision.pmf.empty());
  CHECK(log.rewards[0].value == 1.0);
  CHECK(log.rewards[1].value == 0.0);
  // 2019-11-24 00:03:13 UTC is 1574553793 s after the epoch (date -u -d ... +%s).
  CHECK(first.timestamp_us == 1574553793'442536);
  // Item features: [feature_0, one-hot(aa, zz), one-hot(b), one-hot(c)].
  Eigen::MatrixXd items(5, 2);  // rows as listed, one column per item
  items << -1.5, 0.5,
           1, 0,
           0, 1,
           1, 1,
           1, 1;
  CHECK(first.context.actions == items);
  // User features: one-hot(u0, u1), one-hot(v), one-hot(w), one-hot(x).
  Eigen::VectorXd user(5);
  user << 0, 1, 1, 1, 1;
  CHECK(first.context.user == user);
}

TEST_CASE("a malformed OBD row is reported with its file and line", "[logging][integration]") {
  TempDir dir;
  const std::string bad_position = "2,2019-11-24 00:03:15+00:00,0,zero,0,0.5,u0,v,w,x,0.0,0.0\n";
  const std::string short_row = "2,2019-11-24 00:03:15+00:00,0,1\n";
  const std::string rows = kRows + GENERATE_COPY(bad_position, short_row);
  const std::string folder = write_campaign(dir, rows);
  REQUIRE_THROWS_WITH(read_obd(find_obd_folders(folder)[0]), Contains("tiny.csv:4"));
}

TEST_CASE("zero or missing OBD propensities are refused naming every row", "[logging][integration]") {
  TempDir dir;
  const std::string rows = kRows +
                           "2,2019-11-24 00:03:15+00:00,0,1,0,0,u0,v,w,x,0.0,0.0\n"
                           "3,2019-11-24 00:03:16+00:00,0,1,0,,u0,v,w,x,0.0,0.0\n";
  const std::string folder = write_campaign(dir, rows);
  REQUIRE_THROWS_WITH(read_obd(find_obd_folders(folder)[0]),
                      Contains("2 rows") && Contains("lines 4, 5"));
}

TEST_CASE("the OBD root is searched for the asked policy and campaign", "[logging][integration]") {
  const std::string root = std::string(RECLOOP_SOURCE_DIR) + "/data/obd";
  const auto folders = find_obd_folders(root, "bts", "women");
  REQUIRE(folders.size() == 1);
  CHECK(folders[0].policy == "bts");
  CHECK(folders[0].campaign == "women");
  CHECK(find_obd_folders(root).size() == 4);
  REQUIRE_THROWS_AS(find_obd_folders(root, "greedy"), ConfigError);
}

TEST_CASE("OBD timestamps with fractions and offsets convert to UTC microseconds", "[logging]") {
  CHECK(parse_obd_timestamp("1970-01-01 00:00:00+00:00", "t") == 0);
  CHECK(parse_obd_timestamp("1970-01-01 01:00:00.5+01:00", "t") == 500'000);
  CHECK(parse_obd_timestamp("1970-01-02 00:00:00.000001", "t") == 86'400'000'001);
  REQUIRE_THROWS_WITH(parse_obd_timestamp("2019-13-01 00:00:00", "f.csv:9"), Contains("f.csv:9"));
}

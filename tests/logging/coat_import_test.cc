// SPDX-License-Identifier: Apache-2.0
// Coat import, on tiny folders written by the tests in the data set's own
// layout, and on the shipped data (counts from data/README.md and the data
// set's own README).
#include "logging/coat_import.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "tests/logging/fixtures.h"

using namespace recloop;
using Catch::Matchers::Contains;
using recloop::testing::TempDir;

namespace {

// A Coat folder: 2 users x 3 items.
struct TinyCoat {
  TempDir dir;
  std::string train = "0 4 0\n1 0 0\n";
  std::string test = "0 0 2\n0 5 0\n";
  std::string propensities = "0.5 0.25 0.25\n0.1 0.2 0.2\n";
  std::string users = "1 0\n0 1\n";

  std::string write() const {
    std::filesystem::create_directories(dir.file("user_item_features"));
    std::ofstream(dir.file("train.ascii")) << train;
    std::ofstream(dir.file("test.ascii")) << test;
    std::ofstream(dir.file("propensities.ascii")) << propensities;
    std::ofstream(dir.file("user_item_features/user_features.ascii")) << users;
    return dir.file("");
  }
};

}  // namespace

TEST_CASE("a Coat rating becomes a decision over the catalogue with its normalised propensity",
          "[logging][integration]") {
  TinyCoat coat;
  const CoatLog log = read_coat(coat.write());
  CHECK(log.users == 2);
  CHECK(log.items == 3);
  REQUIRE(log.self_selected.decisions.size() == 2);
  REQUIRE(log.random.decisions.size() == 2);
  const LoggedDecision& first = log.self_selected.decisions[0];
  CHECK(first.decision.event_id == "coat-self_selected-0-1");
  CHECK(first.decision.policy == kCoatSelfSelectedPolicy);
  CHECK(first.decision.action == 1);
  CHECK(first.decision.item == 1);
  CHECK(first.decision.slot == 0);
  CHECK(first.decision.pmf.empty());
  // User 0's propensities sum to 1: 0.25 / 1.
  CHECK(first.decision.probability == Approx(0.25));
  CHECK(first.context.items == std::vector<ItemId>{0, 1, 2});
  CHECK(first.context.actions.rows() == 0);
  CHECK(first.context.actions.cols() == 3);
  CHECK(first.context.user == Eigen::Vector2d(1, 0));
  CHECK(log.self_selected.rewards[0].value == 4.0);
  // User 1's row sums to 0.5, so item 0's 0.1 becomes 0.2.
  CHECK(log.self_selected.decisions[1].decision.probability == Approx(0.2));
  CHECK(log.self_selected.decisions[1].context.user == Eigen::Vector2d(0, 1));
  // Random ratings: uniform over the 3 items.
  const LoggedDecision& random = log.random.decisions[1];
  CHECK(random.decision.event_id == "coat-random-1-1");
  CHECK(random.decision.policy == kCoatRandomPolicy);
  CHECK(random.decision.probability == Approx(1.0 / 3.0));
  CHECK(log.random.rewards[1].value == 5.0);
}

TEST_CASE("bad Coat input is reported with its file, row and item", "[logging][integration]") {
  TinyCoat coat;
  std::string expected;
  SECTION("a zero propensity") {
    coat.propensities = "0.5 0.25 0.25\n0.1 0 0.2\n";
    expected = "propensities.ascii:2: item 1: propensity 0";
  }
  SECTION("a negative propensity") {
    coat.propensities = "0.5 -0.25 0.25\n0.1 0.2 0.2\n";
    expected = "propensities.ascii:1: item 1: propensity -0.25";
  }
  SECTION("a propensity that is not a number") {
    coat.propensities = "0.5 0.25 0.25\n0.1 x 0.2\n";
    expected = "propensities.ascii:2: item 1";
  }
  SECTION("a short row") {
    coat.test = "0 0 2\n0 5\n";
    expected = "test.ascii:2: malformed row: 2 values, expected 3";
  }
  SECTION("a rating out of range") {
    coat.train = "0 4 0\n1 0 7\n";
    expected = "train.ascii:2: item 2: rating '7'";
  }
  SECTION("a missing user") {
    coat.users = "1 0\n";
    expected = "user_features.ascii: 1 users";
  }
  const std::string dir = coat.write();
  REQUIRE_THROWS_WITH(read_coat(dir), Contains(expected));
}

TEST_CASE("a missing Coat file is named", "[logging][integration]") {
  TinyCoat coat;
  const std::string dir = coat.write();
  std::filesystem::remove(dir + "/propensities.ascii");
  REQUIRE_THROWS_WITH(read_coat(dir), Contains("propensities.ascii: cannot open"));
  REQUIRE_THROWS_WITH(read_coat(dir + "/nowhere"), Contains("nowhere: not a directory"));
}

TEST_CASE("the shipped Coat data imports with the counts its README states",
          "[logging][integration]") {
  const CoatLog log = read_coat(std::string(RECLOOP_SOURCE_DIR) + "/data/coat");
  CHECK(log.users == 290);
  CHECK(log.items == 300);
  // README: 6,960 self-selected ratings (24 per user), 4,640 random (16 per user).
  REQUIRE(log.self_selected.decisions.size() == 6960);
  REQUIRE(log.random.decisions.size() == 4640);
  std::map<std::string, int> per_user_selected, per_user_random;
  std::set<std::string> selected_pairs;
  for (const auto& d : log.self_selected.decisions) {
    const std::string pair = d.decision.event_id.substr(std::string("coat-self_selected-").size());
    selected_pairs.insert(pair);
    ++per_user_selected[pair.substr(0, pair.find('-'))];
    CHECK(d.context.size() == 300);
    // 14 one-hot user columns in 4 groups: each row sums to 4.
    CHECK(d.context.user.size() == 14);
    CHECK(d.context.user.sum() == 4.0);
    // Propensities lie in [0.0025, 0.69] and rows sum to 23..26, so the normalised
    // probability is in (0.0025/26, 0.69/23).
    CHECK(d.decision.probability > 0.0025 / 26);
    CHECK(d.decision.probability < 0.69 / 23);
  }
  std::size_t in_both = 0;
  for (const auto& d : log.random.decisions) {
    const std::string pair = d.decision.event_id.substr(std::string("coat-random-").size());
    in_both += selected_pairs.count(pair);
    ++per_user_random[pair.substr(0, pair.find('-'))];
    CHECK(d.decision.probability == 1.0 / 300.0);
  }
  // README: 366 (user, item) pairs are rated in both files.
  CHECK(in_both == 366);
  CHECK(per_user_selected.size() == 290);
  CHECK(per_user_random.size() == 290);
  for (const auto& [user, n] : per_user_selected) CHECK(n == 24);
  for (const auto& [user, n] : per_user_random) CHECK(n == 16);
  for (const auto& r : log.self_selected.rewards) CHECK((r.value >= 1.0 && r.value <= 5.0));
}

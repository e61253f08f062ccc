// SPDX-License-Identifier: Apache-2.0
#include "evaluation/probability_table.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <catch2/catch.hpp>

#include "core/error.h"

using namespace recloop;
using Catch::Matchers::Contains;

namespace {

// Three candidates with catalogue ids 10, 20, 30; user features one-hot.
Interaction at_slot(std::uint32_t slot, ActionId action = 0, std::vector<ItemId> items = {10, 20, 30}) {
  Interaction i;
  i.event_id.append("e").append(std::to_string(slot)).append("-").append(std::to_string(action));
  i.context.user = Eigen::VectorXd::Zero(4);
  i.context.user[1] = 1.0;
  i.context.actions = Eigen::MatrixXd::Zero(1, static_cast<Eigen::Index>(items.size()));
  i.context.items = std::move(items);
  i.action = action;
  i.probability = 1.0 / 3;
  i.slot = slot;
  return i;
}

ProbabilityTable two_slots() {
  return ProbabilityTable({{"", 10, 0, 0.5}, {"", 20, 0, 0.5}, {"", 30, 1, 1.0}});
}

}  // namespace

TEST_CASE("a probability table gives the pmf of the interaction's slot over its candidates",
          "[evaluation]") {
  const auto table = two_slots();
  CHECK(table.pmf(at_slot(0)) == std::vector<double>{0.5, 0.5, 0.0});
  CHECK(table.pmf(at_slot(1)) == std::vector<double>{0.0, 0.0, 1.0});
}

TEST_CASE("a table that puts mass on items missing from the context is refused naming the event",
          "[evaluation]") {
  const auto table = two_slots();
  REQUIRE_THROWS_WITH(table.pmf(at_slot(0, 0, {10, 30})), Contains("e0-0") && Contains("mass 0.5"));
  REQUIRE_THROWS_WITH(table.pmf(at_slot(2)), Contains("no rows for slot 2"));
}

TEST_CASE("a table whose slot does not sum to one is refused", "[evaluation]") {
  REQUIRE_THROWS_AS(ProbabilityTable({{"", 10, 0, 0.5}, {"", 20, 0, 0.4}}), std::invalid_argument);
  REQUIRE_THROWS_AS(ProbabilityTable({{"", 10, 0, 1.5}}), std::invalid_argument);
  REQUIRE_THROWS_AS(ProbabilityTable({{"", 10, 0, 1.0}, {"", 10, 0, 0.0}}), std::invalid_argument);
}

TEST_CASE("a table derived from a log holds each slot's empirical choice frequencies",
          "[evaluation]") {
  // Slot 0: items 10, 10, 20 chosen; slot 1: item 30 once.
  const std::vector<Interaction> log{at_slot(0, 0), at_slot(0, 1), at_slot(0, 0), at_slot(1, 2)};
  const auto table = ProbabilityTable::from_frequencies(log);
  CHECK(table.pmf(at_slot(0)) == std::vector<double>{2.0 / 3, 1.0 / 3, 0.0});
  CHECK(table.pmf(at_slot(1)) == std::vector<double>{0.0, 0.0, 1.0});
  const auto reversed = ProbabilityTable::from_frequencies({log.rbegin(), log.rend()});
  CHECK(reversed.pmf(at_slot(0)) == table.pmf(at_slot(0)));
}

TEST_CASE("a table survives its CSV form exactly", "[evaluation][integration]") {
  const std::vector<Interaction> log{at_slot(0, 0), at_slot(0, 1), at_slot(0, 0), at_slot(1, 2)};
  const auto table = ProbabilityTable::from_frequencies(log, true);
  REQUIRE(table.has_segments());
  CHECK(table.rows().front().segment == "1");  // context_segment: index of the one-hot user entry
  const std::string path = "/tmp/recloop-probability-table-test.csv";
  {
    std::ofstream out(path);
    table.write_csv(out);
  }
  const auto read = ProbabilityTable::load_csv(path);
  std::remove(path.c_str());
  REQUIRE(read.rows().size() == table.rows().size());
  for (std::size_t k = 0; k < read.rows().size(); ++k) {
    CHECK(read.rows()[k].probability == table.rows()[k].probability);
    CHECK(read.rows()[k].segment == table.rows()[k].segment);
  }
}

TEST_CASE("a malformed table file is reported with its line", "[evaluation][integration]") {
  const std::string path = "/tmp/recloop-probability-table-bad.csv";
  { std::ofstream(path) << "item,slot,probability\n10,0,1\n20,zero,0.5\n"; }
  REQUIRE_THROWS_WITH(ProbabilityTable::load_csv(path), Contains(path + ":3"));
  std::remove(path.c_str());
}

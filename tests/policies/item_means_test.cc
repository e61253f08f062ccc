// SPDX-License-Identifier: Apache-2.0
#include "policies/item_means.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/error.h"
#include "core/model_io.h"

using namespace recloop;

namespace {

std::string bytes_of(const ItemMeans& means) {
  ModelWriter out;
  means.save(out);
  return out.take();
}

}  // namespace

TEST_CASE("item means hold state only for the items that were updated", "[policies]") {
  ItemMeans means;
  for (ItemId item : {999'999ull, 3ull, 500'000ull, 3ull}) means.add(item, 1.0);
  REQUIRE(means.item_count() == 3);
  REQUIRE(means.total_count() == 4);
  REQUIRE(means.stats(7) == ItemMeans::Stats{});
  REQUIRE(means.mean(7, 0.25) == 0.25);
  REQUIRE(means.item_count() == 3);  // reading an unseen item allocates nothing
}

TEST_CASE("an item's mean is the sum of its rewards over their number", "[policies]") {
  ItemMeans means;
  means.add(4, 1.0);
  means.add(4, 0.0);
  means.add(4, 0.5);
  means.add(9, -2.0);
  REQUIRE(means.stats(4) == ItemMeans::Stats{3, 1.5});
  REQUIRE(means.mean(4, 99.0) == 0.5);
  REQUIRE(means.mean(9, 99.0) == -2.0);
}

TEST_CASE("item means reject a non-finite reward", "[policies]") {
  ItemMeans means;
  REQUIRE_THROWS_AS(means.add(1, std::nan("")), std::logic_error);
  REQUIRE_THROWS_AS(means.add(1, std::numeric_limits<double>::infinity()), std::logic_error);
  REQUIRE(means.total_count() == 0);
}

TEST_CASE("item means save the same bytes whatever order the items were first seen in",
          "[policies]") {
  ItemMeans forward;
  ItemMeans backward;
  for (ItemId item = 0; item < 50; ++item) forward.add(item * 7919, 0.1 * item);
  for (ItemId item = 50; item-- > 0;) backward.add(item * 7919, 0.1 * item);
  REQUIRE(bytes_of(forward) == bytes_of(backward));

  const std::string bytes = bytes_of(forward);
  ModelReader in(bytes);
  const ItemMeans loaded = ItemMeans::load(in);
  REQUIRE(in.at_end());
  REQUIRE(loaded == forward);
  REQUIRE(loaded.total_count() == 50);
}

TEST_CASE("item means refuse inconsistent model data", "[policies]") {
  const auto load = [](const std::vector<std::uint64_t>& items,
                       const std::vector<std::uint64_t>& counts, const std::vector<double>& sums) {
    ModelWriter out;
    out.put_u64s(items);
    out.put_u64s(counts);
    out.put_doubles(sums);
    const std::string bytes = out.take();
    ModelReader in(bytes);
    return ItemMeans::load(in);
  };
  REQUIRE_NOTHROW(load({1, 2}, {1, 3}, {0.5, 1.0}));
  REQUIRE_THROWS_AS(load({1, 2}, {1}, {0.5, 1.0}), Error);
  REQUIRE_THROWS_AS(load({2, 1}, {1, 1}, {0.5, 1.0}), Error);
  REQUIRE_THROWS_AS(load({1, 1}, {1, 1}, {0.5, 1.0}), Error);
  REQUIRE_THROWS_AS(load({1, 2}, {1, 0}, {0.5, 1.0}), Error);
  REQUIRE_THROWS_AS(load({1, 2}, {1, 1}, {0.5, std::nan("")}), Error);
  REQUIRE_THROWS_AS(load({1, 2}, {~std::uint64_t{0}, 1}, {0.5, 1.0}), Error);
}

// SPDX-License-Identifier: Apache-2.0
#include "cli/json_writer.h"

#include <limits>

#include <catch2/catch.hpp>

using namespace recloop;

TEST_CASE("the json writer separates members and escapes strings", "[cli]") {
  JsonWriter out;
  out.begin_object().key("a").value(1.5).key("b").begin_array().value("x\"y").value(true).end_array()
      .key("c").value(std::numeric_limits<double>::quiet_NaN()).end_object();
  REQUIRE(out.str() == R"({"a":1.5,"b":["x\"y",true],"c":null})");
}

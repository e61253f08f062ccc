// SPDX-License-Identifier: Apache-2.0
#include "core/codec.h"

#include <limits>

#include <catch2/catch.hpp>

using namespace recloop;

namespace {
Context make_context() {
  Context c;
  c.user = Eigen::VectorXd::LinSpaced(3, -1.0, 1.0);
  c.actions = Eigen::MatrixXd::Random(2, 4);
  c.items = {10, 20, 30, 40};
  return c;
}
}  // namespace

TEST_CASE("a context survives encoding and decoding bit for bit", "[core]") {
  const Context c = make_context();
  const auto decoded = decode_context(encode_context(c));
  REQUIRE(decoded.has_value());
  REQUIRE(decoded->user == c.user);
  REQUIRE(decoded->actions == c.actions);
  REQUIRE(decoded->items == c.items);
}

TEST_CASE("a truncated context is rejected", "[core]") {
  const std::string bytes = encode_context(make_context());
  REQUIRE_FALSE(decode_context(bytes.substr(0, bytes.size() - 1)).has_value());
  REQUIRE_FALSE(decode_context(bytes.substr(0, 5)).has_value());
  REQUIRE_FALSE(decode_context(bytes + "x").has_value());
}

TEST_CASE("a context with non-finite features is rejected", "[core]") {
  Context c = make_context();
  c.user[1] = std::numeric_limits<double>::quiet_NaN();
  REQUIRE_FALSE(decode_context(encode_context(c)).has_value());
}

TEST_CASE("doubles survive encoding and a ragged length is rejected", "[core]") {
  const std::vector<double> values{0.1, -2.5, 1e300};
  REQUIRE(decode_doubles(encode_doubles(values)).value() == values);
  REQUIRE_FALSE(decode_doubles("abc").has_value());
}

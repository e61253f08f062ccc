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

TEST_CASE("every non-finite feature is rejected, wherever it is, and extreme finite ones kept",
          "[core]") {
  const Context base = make_context();
  const double bad[] = {std::numeric_limits<double>::quiet_NaN(),
                        std::numeric_limits<double>::infinity(),
                        -std::numeric_limits<double>::infinity()};
  for (const double value : bad) {
    for (Eigen::Index i = 0; i < base.user.size() + base.actions.size(); ++i) {
      Context c = base;
      if (i < base.user.size()) {
        c.user[i] = value;
      } else {
        c.actions.data()[i - base.user.size()] = value;
      }
      Context out;
      REQUIRE_FALSE(decode_context_into(encode_context(c), out));
    }
  }
  Context c = base;
  c.user[0] = std::numeric_limits<double>::max();
  c.user[1] = -std::numeric_limits<double>::max();
  c.actions(1, 2) = std::numeric_limits<double>::denorm_min();
  const auto decoded = decode_context(encode_context(c));
  REQUIRE(decoded.has_value());
  REQUIRE(decoded->user == c.user);
  REQUIRE(decoded->actions == c.actions);
}

TEST_CASE("decoding into a context reuses its storage when the shape repeats", "[core]") {
  const Context first = make_context();
  Context second = make_context();
  second.user *= 2.0;
  second.items = {1, 2, 3, 4};
  Context out;
  REQUIRE(decode_context_into(encode_context(first), out));
  const double* user = out.user.data();
  const double* actions = out.actions.data();
  out.available = {1, 0, 1, 1};
  REQUIRE(decode_context_into(encode_context(second), out));
  REQUIRE(out.user.data() == user);
  REQUIRE(out.actions.data() == actions);
  REQUIRE(out.user == second.user);
  REQUIRE(out.actions == second.actions);
  REQUIRE(out.items == second.items);
  REQUIRE(out.available.empty());
  // Another shape decodes too.
  Context wide = make_context();
  wide.actions = Eigen::MatrixXd::Random(5, 4);
  REQUIRE(decode_context_into(encode_context(wide), out));
  REQUIRE(out.actions == wide.actions);
}

TEST_CASE("doubles survive encoding and a ragged length is rejected", "[core]") {
  const std::vector<double> values{0.1, -2.5, 1e300};
  REQUIRE(decode_doubles(encode_doubles(values)).value() == values);
  REQUIRE_FALSE(decode_doubles("abc").has_value());
}

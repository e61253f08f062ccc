// SPDX-License-Identifier: Apache-2.0
#include "evaluation/exact_sum.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "core/rng.h"
#include "core/sampling.h"

using namespace recloop;

TEST_CASE("an exact sum keeps bits that naive summation loses", "[evaluation]") {
  // 1e16 + 1 rounds back to 1e16 in double, so naive left-to-right summation
  // of {1e16, 1, -1e16} gives 0; the exact sum is 1.
  ExactSum sum;
  for (double x : {1e16, 1.0, -1e16}) sum.add(x);
  REQUIRE(sum.value() == 1.0);
}

TEST_CASE("an exact sum is the same whatever the order of the values", "[evaluation]") {
  Rng rng(5);
  std::vector<double> values;
  for (int i = 0; i < 5000; ++i) {
    values.push_back((uniform01(rng) - 0.3) * std::exp2(static_cast<int>(uniform_index(rng, 60)) - 30));
  }
  ExactSum forward;
  for (double x : values) forward.add(x);
  std::reverse(values.begin(), values.end());
  std::swap(values[0], values[2500]);
  ExactSum shuffled;
  for (double x : values) shuffled.add(x);
  REQUIRE(forward.value() == shuffled.value());
}

TEST_CASE("exact moments give the mean and the unbiased sample variance", "[evaluation]") {
  // {1, 2, 3, 6}: mean 3, squared deviations 4 + 1 + 0 + 9 = 14, variance 14/3.
  ExactMoments m;
  for (double x : {1.0, 2.0, 3.0, 6.0}) m.add(x);
  REQUIRE(m.count() == 4);
  REQUIRE(m.mean() == 3.0);
  REQUIRE(m.sample_variance() == Approx(14.0 / 3.0).epsilon(1e-15));
}

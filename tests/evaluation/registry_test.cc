// SPDX-License-Identifier: Apache-2.0
#include "evaluation/registry.h"

#include <memory>
#include <stdexcept>

#include <catch2/catch.hpp>

#include "core/error.h"
#include "tests/evaluation/click_world.h"

using namespace recloop;
using namespace recloop::testing;
using Catch::Matchers::Contains;

TEST_CASE("every registered estimator is built under its own name", "[evaluation]") {
  const auto model = std::make_shared<ConstantRewardModel>(0.0);
  REQUIRE(estimator_names() == std::vector<std::string>{"naive", "ips", "snips", "dm", "dr", "sndr",
                                                       "switch_dr", "dros", "replay"});
  for (const auto& name : estimator_names()) {
    const auto estimator = make_estimator(name, model);
    REQUIRE(estimator->name() == name);
  }
}

TEST_CASE("an unknown estimator name is a config error listing the known names", "[evaluation]") {
  REQUIRE_THROWS_AS(make_estimator("ipw", nullptr), ConfigError);
  REQUIRE_THROWS_WITH(make_estimator("ipw", nullptr),
                      Contains("ipw") && Contains("naive, ips, snips, dm, dr, sndr, switch_dr, dros, replay"));
}

TEST_CASE("model-based estimators need a reward model", "[evaluation]") {
  REQUIRE_THROWS_AS(make_estimator("dm", nullptr), std::invalid_argument);
  REQUIRE_THROWS_AS(make_estimator("dr", nullptr), std::invalid_argument);
  REQUIRE(make_estimator("ips", nullptr)->name() == "ips");
}

TEST_CASE("estimator parameters are read from a config section", "[evaluation]") {
  const auto model = std::make_shared<ConstantRewardModel>(0.0);
  ConfigSection parameters("estimators");
  parameters.set("tau", "3");
  REQUIRE(make_estimator("switch_dr", model, parameters)->name() == "switch_dr");
  parameters.reject_unknown();
  ConfigSection bad("estimators");
  bad.set("lambda", "-1");
  REQUIRE_THROWS_AS(make_estimator("dros", model, bad), ConfigError);
}

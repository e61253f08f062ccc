// SPDX-License-Identifier: Apache-2.0
#include "cli/live_metrics.h"

#include "core/types.h"
#include "feedback/metrics.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <map>
#include <string>

namespace recloop {
namespace {

TEST_CASE("joined rewards are summed per policy, and past 64 policies under policy=\"other\"",
          "[cli][metrics]") {
  MetricsRegistry registry;
  const auto record = policy_reward_recorder(registry);
  Interaction interaction;
  // Policy k gets k + 1 interactions of reward 0.5 each; 70 policies.
  for (int k = 0; k < 70; ++k) {
    char name[16];  // not "p" + std::to_string(...): g++ 12 -Wrestrict false positive
    std::snprintf(name, sizeof name, "p%d", 100 + k);
    interaction.policy = name;
    interaction.reward = 0.5;
    for (int i = 0; i <= k; ++i) record(interaction);
  }
  std::map<std::string, double> count, sum;
  for (const auto& sample : parse_metrics_text(registry.render())) {
    REQUIRE(sample.labels.size() == 1);
    const std::string& policy = sample.labels.front().second;
    if (sample.name == "recloop_policy_reward_count") count[policy] = sample.value;
    if (sample.name == "recloop_policy_reward_sum") sum[policy] = sample.value;
  }
  REQUIRE(count.size() == 65);
  CHECK(count["p100"] == 1);
  CHECK(count["p163"] == 64);
  CHECK(sum["p163"] == 32);
  // Policies 64..69 (65 + ... + 70 interactions) share one series.
  CHECK(count["other"] == 65 + 66 + 67 + 68 + 69 + 70);
  CHECK(sum["other"] == 0.5 * (65 + 66 + 67 + 68 + 69 + 70));
  CHECK(count.count("p164") == 0);
}

TEST_CASE("every live process exports its role, start time and uptime", "[cli][metrics]") {
  MetricsRegistry registry;
  register_process_metrics(registry, "learn");
  const auto samples = parse_metrics_text(registry.render());
  REQUIRE(samples.size() == 3);
  CHECK(samples[0].name == "recloop_info");
  CHECK(samples[0].labels == MetricLabels{{"role", "learn"}, {"version", "0.1.0"}});
  CHECK(samples[0].value == 1);
  CHECK(samples[1].name == "recloop_start_time_seconds");
  CHECK(samples[1].value > 1.6e9);  // after 2020
  CHECK(samples[2].name == "recloop_uptime_seconds");
  CHECK(samples[2].value >= 0.0);
}

}  // namespace
}  // namespace recloop

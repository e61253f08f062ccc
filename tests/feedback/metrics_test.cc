// SPDX-License-Identifier: Apache-2.0
#include "feedback/metrics.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace recloop {
namespace {

TEST_CASE("A small registry renders the exact Prometheus 0.0.4 text", "[feedback][metrics]") {
  MetricsRegistry registry;
  registry.counter("recloop_requests_total", "Requests received.").add(3);
  Gauge& version = registry.gauge("recloop_model_version", "Model version\nserved.");
  version.set(42);
  Summary& lin =
      registry.summary("recloop_policy_reward", "Rewards by \\ policy.", {{"policy", "lin_ucb"}});
  lin.observe(1.0);
  lin.observe(0.5);
  registry.summary("recloop_policy_reward", "Rewards by \\ policy.",
                   {{"policy", "a \"quoted\\ name\nhere"}});
  std::uint64_t frames = 7;
  registry.counter_function("recloop_rejected_frames_total", "Frames dropped.",
                            {{"role", "collect"}, {"zone", "x"}}, [&] { return frames; });
  registry.gauge_function("recloop_exploration_rate", "Fraction explored.", {},
                          [] { return 0.25; });

  const std::string expected =
      "# HELP recloop_requests_total Requests received.\n"
      "# TYPE recloop_requests_total counter\n"
      "recloop_requests_total 3\n"
      "# HELP recloop_model_version Model version\\nserved.\n"
      "# TYPE recloop_model_version gauge\n"
      "recloop_model_version 42\n"
      "# HELP recloop_policy_reward Rewards by \\\\ policy.\n"
      "# TYPE recloop_policy_reward summary\n"
      "recloop_policy_reward_sum{policy=\"lin_ucb\"} 1.5\n"
      "recloop_policy_reward_count{policy=\"lin_ucb\"} 2\n"
      "recloop_policy_reward_sum{policy=\"a \\\"quoted\\\\ name\\nhere\"} 0\n"
      "recloop_policy_reward_count{policy=\"a \\\"quoted\\\\ name\\nhere\"} 0\n"
      "# HELP recloop_rejected_frames_total Frames dropped.\n"
      "# TYPE recloop_rejected_frames_total counter\n"
      "recloop_rejected_frames_total{role=\"collect\",zone=\"x\"} 7\n"
      "# HELP recloop_exploration_rate Fraction explored.\n"
      "# TYPE recloop_exploration_rate gauge\n"
      "recloop_exploration_rate 0.25\n";
  CHECK(registry.render() == expected);
  frames = 9;  // read functions are read at every render
  CHECK(registry.render().find("recloop_rejected_frames_total{role=\"collect\",zone=\"x\"} 9\n") !=
        std::string::npos);
}

TEST_CASE("Gauges render non-finite values as NaN, +Inf and -Inf and others exactly",
          "[feedback][metrics]") {
  MetricsRegistry registry;
  registry.gauge("g", "g", {{"k", "nan"}}).set(std::nan(""));
  registry.gauge("g", "g", {{"k", "inf"}}).set(std::numeric_limits<double>::infinity());
  registry.gauge("g", "g", {{"k", "-inf"}}).set(-std::numeric_limits<double>::infinity());
  registry.gauge("g", "g", {{"k", "third"}}).set(1.0 / 3.0);
  const std::string text = registry.render();
  CHECK(text.find("g{k=\"nan\"} NaN\n") != std::string::npos);
  CHECK(text.find("g{k=\"inf\"} +Inf\n") != std::string::npos);
  CHECK(text.find("g{k=\"-inf\"} -Inf\n") != std::string::npos);
  // Shortest round-trip form: reads back to the same double.
  const auto samples = parse_metrics_text(text);
  REQUIRE(samples.size() == 4);
  CHECK(std::isnan(samples[0].value));
  CHECK(samples[1].value == std::numeric_limits<double>::infinity());
  CHECK(samples[2].value == -std::numeric_limits<double>::infinity());
  CHECK(samples[3].value == 1.0 / 3.0);
}

TEST_CASE("The same name and labels return the same counter; conflicts are refused",
          "[feedback][metrics]") {
  MetricsRegistry registry;
  Counter& a = registry.counter("c_total", "help", {{"policy", "x"}});
  Counter& b = registry.counter("c_total", "help", {{"policy", "x"}});
  CHECK(&a == &b);
  CHECK(&a != &registry.counter("c_total", "help", {{"policy", "y"}}));
  CHECK_THROWS_AS(registry.gauge("c_total", "help"), std::invalid_argument);
  CHECK_THROWS_AS(registry.counter("c_total", "other help"), std::invalid_argument);
  CHECK_THROWS_AS(registry.counter_function("c_total", "help", {{"policy", "x"}},
                                            [] { return std::uint64_t{0}; }),
                  std::invalid_argument);
  CHECK_THROWS_AS(registry.counter("1bad", "help"), std::invalid_argument);
  CHECK_THROWS_AS(registry.counter("ok", "help", {{"bad-label", "v"}}), std::invalid_argument);
  CHECK_THROWS_AS(registry.counter("ok", "help", {{"__reserved", "v"}}), std::invalid_argument);
  CHECK_THROWS_AS(registry.counter("ok", "help", {{"a", "1"}, {"a", "2"}}), std::invalid_argument);
}

TEST_CASE("Counters and summaries updated from several threads sum exactly",
          "[feedback][metrics]") {
  MetricsRegistry registry;
  Counter& counter = registry.counter("hits_total", "hits");
  Summary& summary = registry.summary("reward", "reward", {{"policy", "p"}});
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        counter.add();
        summary.observe(0.5);  // exact in binary, so the sum is exact at any order
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(counter.value() == std::uint64_t{kThreads} * kPerThread);
  CHECK(summary.count() == std::uint64_t{kThreads} * kPerThread);
  CHECK(summary.sum() == 0.5 * kThreads * kPerThread);
  CHECK(registry.render().find("hits_total 800000\n") != std::string::npos);
}

TEST_CASE("Rendered text parses back into its samples with labels unescaped",
          "[feedback][metrics]") {
  MetricsRegistry registry;
  registry.counter("a_total", "a", {{"policy", "x\"y\\z\nw"}, {"role", "serve"}}).add(5);
  registry.summary("r", "r", {{"policy", "p"}}).observe(-2.5);
  const auto samples = parse_metrics_text(registry.render());
  REQUIRE(samples.size() == 3);
  CHECK(samples[0].name == "a_total");
  CHECK(samples[0].labels == MetricLabels{{"policy", "x\"y\\z\nw"}, {"role", "serve"}});
  CHECK(samples[0].value == 5);
  CHECK(samples[1].name == "r_sum");
  CHECK(samples[1].value == -2.5);
  CHECK(samples[2].name == "r_count");
  CHECK(samples[2].value == 1);
}

TEST_CASE("Malformed metrics text is refused with its line number", "[feedback][metrics]") {
  CHECK_THROWS_WITH(parse_metrics_text("# ok\nx 1\ny{a=\"1} 2\n"),
                    Catch::Contains("line 3") && Catch::Contains("unterminated"));
  CHECK_THROWS_WITH(parse_metrics_text("x one\n"),
                    Catch::Contains("line 1") && Catch::Contains("'one'"));
  CHECK_THROWS_WITH(parse_metrics_text("x\n"), Catch::Contains("no value"));
  // A timestamp after the value is allowed and ignored.
  CHECK(parse_metrics_text("x 3 1700000000000\n").front().value == 3);
}

}  // namespace
}  // namespace recloop

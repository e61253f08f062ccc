// SPDX-License-Identifier: Apache-2.0
// The decision server's exploration counters and its rate-limited log line
// for rejected requests, through answer() (no sockets needed).
#include "core/config.h"
#include "feedback/decision_server.h"
#include "feedback/logger.h"
#include "policies/registry.h"
#include "tests/support/live_fixtures.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

using namespace recloop;
using nlohmann::json;

namespace {

// Epsilon-greedy over 4 items, trained so that item 0 is best for large x and
// item 1 for small x: its pmf has one argmax of 1 - 0.3 + 0.3 / 4 per context.
std::shared_ptr<const Policy> trained_policy() {
  return recloop::testing::trained_epsilon_greedy({0, 1, 2, 3});
}

std::string request_for(double x, const std::string& event_id) {
  json actions = json::array();
  for (int a = 0; a < 4; ++a) actions.push_back({{"id", a}, {"features", {{"w", 1}}}});
  const json body{
      {"eventId", event_id}, {"contextFeatures", {{"b", 1}, {"a", x}}}, {"actions", actions}};
  return body.dump();
}

TEST_CASE("the server counts answered decisions that did not take the pmf's argmax",
          "[feedback][metrics]") {
  zmq::context_t zmq;
  DecisionServerOptions options;
  options.endpoint = "tcp://127.0.0.1:*";
  PolicySnapshot first{trained_policy(), nullptr, 3};
  const auto policy = first.policy;
  DecisionServer server(zmq, options, FeatureSchema::from_names({}, {}, 2, 1), std::move(first));

  std::uint64_t explored = 0;
  double probability_sum = 0.0;
  constexpr int kRequests = 400;
  for (int i = 0; i < kRequests; ++i) {
    const double x = (i % 7) / 7.0;
    std::string event_id = "e";
    event_id += std::to_string(i);  // not "e" + ...: GCC 12 -Wrestrict false positive
    std::vector<LoggedDecision> decisions;
    server.answer(request_for(x, event_id), decisions);
    REQUIRE(decisions.size() == 1);
    // The pmf recomputed from the policy, not the one the server logged.
    Context context;
    context.user = Eigen::Vector2d(x, 1.0);
    context.actions = Eigen::MatrixXd::Ones(1, 4);
    context.items = {0, 1, 2, 3};
    const std::vector<double> pmf = policy->pmf(context);
    const ActionId action = decisions.front().decision.action;
    explored += pmf[action] < *std::max_element(pmf.begin(), pmf.end());
    probability_sum += pmf[action];
  }
  const DecisionServerStats stats = server.stats();
  CHECK(stats.answered == kRequests);
  CHECK(stats.explored == explored);
  // Both sums add the same doubles, in another order across threads in general;
  // here one thread, so the same order: equal up to rounding of 400 terms.
  CHECK(stats.probability_sum == Approx(probability_sum).epsilon(1e-12));
  // Explorations happen and are the minority (epsilon 0.3 explores 3/4 of 30%).
  CHECK(explored > 0);
  CHECK(explored < kRequests / 2);
}

TEST_CASE("rejected requests are logged at most once a second", "[feedback][metrics]") {
  zmq::context_t zmq;
  std::ostringstream out;
  DecisionServerOptions options;
  options.endpoint = "tcp://127.0.0.1:*";
  options.logger = Logger(out, LogLevel::info, "serve");
  DecisionServer server(zmq, options, FeatureSchema::from_names({}, {}, 2, 1),
                        PolicySnapshot{trained_policy(), nullptr, 1});
  const auto start = std::chrono::steady_clock::now();
  constexpr int kBad = 2000;
  for (int i = 0; i < kBad; ++i) {
    std::vector<LoggedDecision> decisions;
    server.answer("{not json", decisions);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(server.stats().rejected == kBad);
  std::size_t lines = 0;
  std::istringstream text(out.str());
  for (std::string line; std::getline(text, line);) {
    CHECK(line.find("level=warn component=serve msg=\"rejected request\" reason=") !=
          std::string::npos);
    ++lines;
  }
  CHECK(lines >= 1);
  CHECK(static_cast<double>(lines) <= 1.0 + seconds);
}

}  // namespace

// SPDX-License-Identifier: Apache-2.0
// A policy trained offline from logged sessions serves live like any other:
// saved to a model file, loaded by `recloop serve --model FILE`, answering
// rank requests with its pmf. Built only with the process-level support (the
// feedback or cli test folders, which define RECLOOP_BINARY).
#ifdef RECLOOP_BINARY

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>
#include <vector>

#include "policies/model_file.h"
#include "policies/rl/lstdq.h"
#include "tests/support/process.h"

using namespace recloop;
using nlohmann::json;

namespace {

// User features (bias, x) in byte-wise key order, one item feature w;
// one-step sessions with reward w x: Q(s, a) = w x is in the span of phi
// (its x w entry), so LSPI's policy shows the largest w when x > 0 and the
// smallest when x < 0.
std::vector<Trajectory> product_log() {
  std::vector<Trajectory> log;
  for (int i = 0; i < 400; ++i) {
    TrajectoryStep step;
    const double x = (i % 9 - 4) / 4.0;
    step.context.user = Eigen::Vector2d(1.0, x);
    step.context.actions.resize(1, 3);
    step.context.actions << 0.1 * (i % 7), 0.5, 1.0 - 0.1 * (i % 5);
    step.context.items = {1, 2, 3};
    step.action = static_cast<ActionId>(i % 3);
    step.probability = 1.0 / 3.0;
    step.reward = step.context.actions(0, step.action) * x;
    Trajectory t;
    t.steps = {step};
    log.push_back(std::move(t));
  }
  return log;
}

std::string request(double x, const std::string& event_id) {
  json actions = json::array();
  const double w[] = {0.2, 0.9, 0.5};
  for (int i = 0; i < 3; ++i) {
    std::string id = "item-";  // appended: g++ 12 -Wrestrict false positive
    id += std::to_string(i);
    actions.push_back({{"id", id}, {"features", {{"w", w[i]}}}});
  }
  return json{{"eventId", event_id}, {"contextFeatures", {{"x", x}, {"bias", 1}}}, {"actions", actions}}
      .dump();
}

}  // namespace

TEST_CASE("an LSPI policy trained from logged sessions serves live through recloop serve",
          "[integration]") {
  LspiOptions options;
  options.lstdq.ridge = 1e-6;
  options.rule.epsilon = 0.3;
  const auto policy = train_lspi(product_log(), options).policy;
  const std::string model_path = recloop::testing::temp_path("lspi-model");
  save_model(*policy, model_path);
  const int port = recloop::testing::free_tcp_port();
  REQUIRE(port > 0);
  std::string endpoint = "tcp://127.0.0.1:";
  endpoint += std::to_string(port);
  const std::string out_path = recloop::testing::temp_path("serve-out");
  {
    recloop::testing::RecloopProcess server(
        {"serve", "--model", model_path, "--user-dim", "2", "--action-dim", "1", "--bind", endpoint},
        out_path);
    for (const double x : {1.0, -1.0}) {
      const auto ranked = recloop::testing::run_command(
          std::string(RECLOOP_BINARY) + " rank --timeout-ms 20000 --server " + endpoint +
          " --json '" + request(x, x > 0 ? "up" : "down") + "'");
      INFO(ranked.out << ranked.err);
      REQUIRE(ranked.exit_code == 0);
      const json reply = json::parse(ranked.out);
      CHECK(reply.at("policy") == "lspi");
      CHECK(reply.at("modelVersion") == 400);
      // Greedy item: w = 0.9 (item-1) for x = 1, w = 0.2 (item-0) for x = -1,
      // with 1 - 0.3 + 0.1; the others 0.1 each.
      const std::string best = x > 0 ? "item-1" : "item-0";
      double total = 0.0;
      for (const auto& entry : reply.at("ranking")) {
        const double p = entry.at("probability").get<double>();
        total += p;
        CHECK(p == Approx(entry.at("id") == best ? 0.8 : 0.1).margin(1e-12));
      }
      CHECK(total == Approx(1.0).margin(1e-12));
    }
    const int status = server.stop(SIGTERM);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  std::remove(model_path.c_str());
  std::remove(out_path.c_str());
}

#endif  // RECLOOP_BINARY

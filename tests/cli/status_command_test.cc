// SPDX-License-Identifier: Apache-2.0
// `recloop status` against real `recloop collect` and `recloop serve`
// processes started with --metrics, and against an endpoint nobody serves.
#include "feedback/client.h"
#include "tests/logging/fixtures.h"
#include "tests/support/live_fixtures.h"
#include "tests/support/process.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace recloop;
using nlohmann::json;
using recloop::testing::run_command;
using recloop::testing::TempDir;
using recloop::testing::read_file;
using recloop::testing::with_free_port;

namespace {

constexpr int kFlushTimeoutMs = 20000;

std::string status_command(const std::string& arguments) {
  return std::string(RECLOOP_BINARY) + " status --timeout-ms 5000 " + arguments;
}

// `recloop status ENDPOINT --json` until `done` holds for its one object or
// 20 s have passed; the last object read (null if the endpoint never answered).
template <typename Done>
json status_until(const std::string& endpoint, Done done) {
  json last;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto run = run_command(status_command(endpoint + " --json"));
    if (run.exit_code == 0) {
      const json all = json::parse(run.out);
      REQUIRE(all.is_array());
      REQUIRE(all.size() == 1);
      last = all.front();
      if (done(last)) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return last;
}

}  // namespace

TEST_CASE("recloop status shows a collector's counts and each policy's mean reward",
          "[cli][metrics][integration]") {
  TempDir dir;
  const std::string collector_endpoint = with_free_port("tcp://127.0.0.1:");
  const std::string metrics = with_free_port("127.0.0.1:");
  recloop::testing::RecloopProcess collector(
      {"collect", "--log", dir.file("events.db"), "--bind", collector_endpoint, "--metrics",
       metrics},
      dir.file("collect.out"));

  // alpha: rewards 1, 0, 1, 1, 0, 1 (mean 4/6); beta: 0.5 four times.
  zmq::context_t zmq;
  FeedbackClient client(zmq, collector_endpoint, {.resend_timeout_ms = 200});
  const std::vector<double> alpha_rewards = {1, 0, 1, 1, 0, 1};
  for (std::size_t i = 0; i < alpha_rewards.size(); ++i) {
    std::string id = "a";
    id += std::to_string(i);
    client.send(recloop::testing::sample_decision(id, "alpha"));
    client.send(recloop::testing::sample_reward(id, alpha_rewards[i]));
  }
  for (int i = 0; i < 4; ++i) {
    std::string id = "b";
    id += std::to_string(i);
    client.send(recloop::testing::sample_decision(id, "beta"));
    client.send(recloop::testing::sample_reward(id, 0.5));
  }
  REQUIRE(client.flush(kFlushTimeoutMs));

  // Acks come once a batch has committed; the per-policy rewards are counted
  // right after, so the counts are read until all ten joins are in.
  const json s = status_until(metrics, [](const json& j) {
    return j["joined"] == 10 && j["policies"].size() == 2 && j["policies"][0]["count"] == 6 &&
           j["policies"][1]["count"] == 4;
  });
  INFO(s.dump(2));
  CHECK(s["endpoint"] == metrics);
  CHECK(s["role"] == "collect");
  CHECK(s["decisions"] == 10);
  CHECK(s["rewards"] == 10);
  CHECK(s["joined"] == 10);
  CHECK(s["requests"] == 20);
  CHECK(s["rejected"] == 0);
  CHECK(s["duplicates"] == 0);
  CHECK(s["model_version"].is_null());  // a collector has no model
  CHECK(s["uptime_seconds"].get<double>() > 0.0);
  REQUIRE(s["policies"].size() == 2);
  CHECK(s["policies"][0]["policy"] == "alpha");
  CHECK(s["policies"][0]["mean_reward"].get<double>() == Approx(4.0 / 6.0));
  CHECK(s["policies"][1]["policy"] == "beta");
  CHECK(s["policies"][1]["mean_reward"].get<double>() == 0.5);

  // The table: one row per count, one per policy.
  const auto table = run_command(status_command(metrics));
  INFO(table.out << table.err);
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.rfind(metrics + "  collect  up ", 0) == 0);
  CHECK(table.out.find("\n  joined               10\n") != std::string::npos);
  CHECK(table.out.find("\n  mean reward          alpha            0.6667 over 6\n") !=
        std::string::npos);
  CHECK(table.out.find("\n  mean reward          beta             0.5000 over 4\n") !=
        std::string::npos);

  const int status = collector.stop(SIGTERM);
  INFO(read_file(dir.file("collect.out")));
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  // Structured start and stop lines on stderr.
  const std::string printed = read_file(dir.file("collect.out"));
  CHECK(printed.find("msg=\"metrics endpoint\" url=http://" + metrics + "/metrics") !=
        std::string::npos);
  CHECK(printed.find("msg=stopped decisions=10 rewards=10 joined=10") != std::string::npos);
}

TEST_CASE("recloop status shows a decision server's decisions, model version and exploration",
          "[cli][metrics][integration]") {
  TempDir dir;
  const std::string server_endpoint = with_free_port("tcp://127.0.0.1:");
  const std::string metrics = with_free_port("127.0.0.1:");
  recloop::testing::RecloopProcess server(
      {"serve", "--policy", "epsilon_greedy", "--set", "epsilon=0.5", "--user-dim", "2",
       "--action-dim", "1", "--threads", "1", "--bind", server_endpoint, "--metrics", metrics},
      dir.file("serve.out"));
  constexpr int kRequests = 6;
  const std::string request =
      R"({"contextFeatures": {"x": 0.5, "bias": 1}, "actions": [{"id": 1, "features": {"w": 1}},)"
      R"( {"id": 2, "features": {"w": 1}}]})";
  // Asked over ZeroMQ directly, as an application would.
  zmq::context_t zmq;
  auto ask = [&](const std::string& body) {
    zmq::socket_t socket(zmq, zmq::socket_type::req);
    socket.set(zmq::sockopt::linger, 0);
    socket.connect(server_endpoint);
    socket.send(zmq::buffer(body), zmq::send_flags::none);
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    REQUIRE(zmq::poll(&item, 1, std::chrono::milliseconds(20000)) == 1);
    zmq::message_t reply;
    REQUIRE(socket.recv(reply));
    return json::parse(reply.to_string());
  };
  for (int i = 0; i < kRequests; ++i) {
    const json reply = ask(request);
    INFO(reply.dump());
    CHECK(reply.contains("rewardActionId"));
  }
  CHECK(ask("{not json").contains("error"));  // refused, and counted

  const json s =
      status_until(metrics, [](const json& j) { return j["requests"] == kRequests + 1; });
  INFO(s.dump(2));
  CHECK(s["role"] == "serve");
  CHECK(s["requests"] == kRequests + 1);
  CHECK(s["decisions"] == kRequests);
  CHECK(s["rejected"] == 1);
  CHECK(s["model_version"].is_number_integer());
  REQUIRE(s["exploration_rate"].is_number());
  CHECK(s["exploration_rate"].get<double>() >= 0.0);
  CHECK(s["exploration_rate"].get<double>() <= 1.0);
  CHECK(s["policies"].empty());

  const int status = server.stop(SIGTERM);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  const std::string printed = read_file(dir.file("serve.out"));
  INFO(printed);
  CHECK(printed.find("level=warn component=serve msg=\"rejected request\"") != std::string::npos);
  CHECK(printed.find("msg=stopped requests=7 answered=6 rejected=1") != std::string::npos);
}

TEST_CASE("recloop status names an unreachable endpoint in one line and exits 1",
          "[cli][metrics][integration]") {
  const std::string endpoint = with_free_port("127.0.0.1:");
  const auto run = run_command(status_command(endpoint));
  CHECK(run.exit_code == 1);
  CHECK(run.out.empty());
  CHECK(run.err == "recloop status: " + endpoint + ": Connection refused\n");

  const auto json_run = run_command(status_command(endpoint + " --json"));
  CHECK(json_run.exit_code == 1);
  const json all = json::parse(json_run.out);
  REQUIRE(all.size() == 1);
  CHECK(all[0]["endpoint"] == endpoint);
  CHECK(all[0]["error"] == endpoint + ": Connection refused");
}

TEST_CASE("recloop status refuses a malformed endpoint or option with status 2",
          "[cli][metrics][integration]") {
  for (const std::string arguments : {"", "localhost", "127.0.0.1:70000", "127.0.0.1:0",
                                      "127.0.0.1:9100 --watch 0"}) {
    const auto run = run_command(status_command(arguments));
    INFO(arguments << ": " << run.err);
    CHECK(run.exit_code == 2);
    CHECK(run.err.rfind("recloop status: error: ", 0) == 0);
    CHECK(run.err.find('\n') == run.err.size() - 1);
  }
}

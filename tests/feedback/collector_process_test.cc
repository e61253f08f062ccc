// SPDX-License-Identifier: Apache-2.0
// The real `recloop collect` process: killed without warning and restarted on
// the same log and port, it must never lose an event it acknowledged.
#include "core/rng.h"
#include "core/sampling.h"
#include "feedback/client.h"
#include "logging/event_log.h"
#include "tests/logging/fixtures.h"
#include "tests/support/process.h"

#include <catch2/catch.hpp>
#include <zmq.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

using namespace recloop;
using recloop::testing::sample_decision;
using recloop::testing::sample_reward;
using recloop::testing::TempDir;

namespace {

constexpr int kFlushTimeoutMs = 20000;

std::string loopback_endpoint() {
  std::string endpoint = "tcp://127.0.0.1:";
  const int port = recloop::testing::free_tcp_port();
  REQUIRE(port > 0);
  endpoint += std::to_string(port);
  return endpoint;
}

// One `recloop collect` child; killed and reaped at scope exit if still running.
class CollectorProcess : public recloop::testing::RecloopProcess {
 public:
  CollectorProcess(const std::string& log_path, const std::string& endpoint,
                   const std::string& output_path)
      : RecloopProcess({"collect", "--log", log_path, "--bind", endpoint, "--max-batch", "64"},
                       output_path) {}
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string id(int i) {
  std::string text = "k";
  text += std::to_string(i);
  return text;
}

}  // namespace

TEST_CASE("a collector killed repeatedly loses no acknowledged event", "[feedback][integration]") {
  TempDir dir;
  const std::string log_path = dir.file("events.db");
  const std::string output = dir.file("collector.out");
  const std::string endpoint = loopback_endpoint();
  zmq::context_t zmq;
  FeedbackClient client(zmq, endpoint, {.resend_timeout_ms = 200});

  // Kill times are drawn from a fixed seed, so the run is reproducible.
  Rng rng(20240917);
  constexpr int kRounds = 6;
  constexpr int kPerRound = 400;
  std::size_t sent = 0;
  auto collector = std::make_unique<CollectorProcess>(log_path, endpoint, output);
  for (int round = 0; round < kRounds; ++round) {
    for (int k = 0; k < kPerRound; ++k) {
      const int i = round * kPerRound + k;
      client.send(sample_decision(id(i), "uniform", 10, i));
      // Some rewards overtake their decisions: the one for i + 1 is sent now.
      if (i % 3 == 0) client.send(sample_reward(id(i + 1), 1.0));
      if (i % 3 != 1) client.send(sample_reward(id(i), 0.0));
      sent += 1 + (i % 3 == 0) + (i % 3 != 1);
      if (k % 50 == 0) client.poll(0);
    }
    // Let the collector work for a while, then kill it without warning:
    // anywhere in receive, write, commit or ack.
    const int work_ms = 20 + static_cast<int>(uniform_index(rng, 300));
    for (int waited = 0; waited < work_ms; waited += 5) client.poll(5);
    const std::size_t acknowledged = sent - client.unacknowledged();
    collector->stop(SIGKILL);
    collector.reset();
    {
      // Everything the client saw acknowledged must already be in the file.
      EventLog log(log_path);
      INFO("round " << round << ": " << acknowledged << " of " << sent << " acknowledged");
      REQUIRE(log.decision_count() + log.reward_count() >= acknowledged);
    }
    collector = std::make_unique<CollectorProcess>(log_path, endpoint, output);
  }
  // One more event, so that an ack proves the last collector is up (with its
  // signal handlers) even if everything before was acked by its predecessors.
  constexpr int kEvents = kRounds * kPerRound + 1;
  client.send(sample_decision(id(kEvents - 1)));
  client.send(sample_reward(id(kEvents - 1)));
  REQUIRE(client.flush(kFlushTimeoutMs));
  const int status = collector->stop(SIGTERM);
  INFO(read_file(output));
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);

  EventLog log(log_path);
  CHECK(log.decision_count() == static_cast<std::size_t>(kEvents));
  CHECK(log.reward_count() == static_cast<std::size_t>(kEvents));
  CHECK(log.interaction_count() == static_cast<std::size_t>(kEvents));
  // Every event id exactly once. (Not in send order: after a restart, messages
  // queued during the outage overtake the resends of those lost in the crash.)
  std::vector<std::string> ids;
  log.for_each([&](const Interaction& i) { ids.push_back(i.event_id); });
  std::set<std::string> expected;
  for (int i = 0; i < kEvents; ++i) expected.insert(id(i));
  REQUIRE(ids.size() == expected.size());
  REQUIRE(std::set<std::string>(ids.begin(), ids.end()) == expected);
}

TEST_CASE("SIGINT and SIGTERM stop the collector cleanly with status 0",
          "[feedback][integration]") {
  const int signal = GENERATE(SIGINT, SIGTERM);
  TempDir dir;
  const std::string log_path = dir.file("events.db");
  const std::string output = dir.file("collector.out");
  const std::string endpoint = loopback_endpoint();
  zmq::context_t zmq;
  FeedbackClient client(zmq, endpoint, {.resend_timeout_ms = 200});
  CollectorProcess collector(log_path, endpoint, output);
  for (int i = 0; i < 10; ++i) {
    client.send(sample_decision(id(i)));
    client.send(sample_reward(id(i)));
  }
  // Acks prove the collector is up, with its signal handlers installed.
  REQUIRE(client.flush(kFlushTimeoutMs));
  const int status = collector.stop(signal);
  const std::string printed = read_file(output);
  INFO(printed);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_THAT(printed, Catch::Contains("decisions=10 rewards=10 duplicates=0 joined=10"));
  CHECK_THAT(printed, Catch::Contains(endpoint));
  CHECK_THAT(printed, Catch::Contains(log_path));
}

TEST_CASE("recloop collect with a reward window joins the default reward after the window",
          "[feedback][integration]") {
  TempDir dir;
  const std::string log_path = dir.file("events.db");
  const std::string output = dir.file("collector.out");
  const std::string endpoint = loopback_endpoint();
  zmq::context_t zmq;
  FeedbackClient client(zmq, endpoint, {.resend_timeout_ms = 200});
  recloop::testing::RecloopProcess collector(
      {"collect", "--log", log_path, "--bind", endpoint, "--reward-window", "1s",
       "--default-reward", "-2", "--aggregation", "sum"},
      output);
  client.send(sample_decision("rewarded"));
  client.send(Reward{"rewarded", 0.5, 1, "a"});
  client.send(Reward{"rewarded", 0.25, 2, "b"});
  client.send(sample_decision("silent", "uniform", 4, 2));
  REQUIRE(client.flush(kFlushTimeoutMs));
  // Read while the collector writes: nothing is joined before the window closes.
  EventLog log(log_path);
  CHECK(log.interaction_count() == 0);
  // The window closes 1 s after the decisions were stored, and the collector
  // looks every 100 ms: wait for both joins, at most 20 s.
  for (int waited_ms = 0; log.interaction_count() < 2 && waited_ms < kFlushTimeoutMs;
       waited_ms += 50) {
    client.poll(50);
  }
  std::map<std::string, double> rewards;
  log.for_each([&](const Interaction& i) { rewards[i.event_id] = i.reward; });
  CHECK(rewards == std::map<std::string, double>{{"rewarded", 0.75}, {"silent", -2.0}});
  const int status = collector.stop(SIGTERM);
  const std::string printed = read_file(output);
  INFO(printed);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_THAT(printed, Catch::Contains("join=window"));
  CHECK_THAT(printed, Catch::Contains("reward_window=1s"));
  CHECK_THAT(printed, Catch::Contains("joined=2"));
  CHECK_THAT(printed, Catch::Contains("defaulted=1"));
}

TEST_CASE("recloop collect names a bad join flag and its value", "[feedback][integration]") {
  const auto [flag, value] = GENERATE(std::pair<std::string, std::string>{"--reward-window", "10x"},
                                      std::pair<std::string, std::string>{"--reward-window", "0s"},
                                      std::pair<std::string, std::string>{"--aggregation", "mean"},
                                      std::pair<std::string, std::string>{"--log-level", "loud"},
                                      std::pair<std::string, std::string>{"--default-reward", "abc"});
  TempDir dir;
  const auto result = recloop::testing::run_command(
      "'" RECLOOP_BINARY "' collect --log " + dir.file("x.db") + " " + flag + " " + value);
  INFO(result.err);
  CHECK(result.exit_code != 0);
  CHECK_THAT(result.err, Catch::Contains(flag) && Catch::Contains(value));
}

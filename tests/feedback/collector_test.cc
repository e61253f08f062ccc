// SPDX-License-Identifier: Apache-2.0
#include "feedback/collector.h"

#include "feedback/client.h"
#include "feedback/wire.h"
#include "logging/event_log.h"
#include "tests/logging/fixtures.h"

#include <catch2/catch.hpp>
#include <zmq.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

using namespace recloop;
using recloop::testing::sample_decision;
using recloop::testing::sample_reward;
using recloop::testing::TempDir;

namespace {

// Generous: only reached when something is broken.
constexpr int kFlushTimeoutMs = 10000;

// A Collector serving on its own thread until finish() (or destruction).
class RunningCollector {
 public:
  RunningCollector(zmq::context_t& zmq, CollectorOptions options)
      : collector_(zmq, std::move(options)), thread_([this] {
          try {
            collector_.run(stop_);
          } catch (...) {
            error_ = std::current_exception();
          }
        }) {}
  ~RunningCollector() {
    if (thread_.joinable()) finish();
  }
  // Stops the collector and rethrows anything run() threw.
  CollectorStats finish() {
    stop_ = true;
    thread_.join();
    if (error_) std::rethrow_exception(error_);
    return collector_.stats();
  }

 private:
  std::atomic<bool> stop_{false};
  Collector collector_;
  std::exception_ptr error_;
  std::thread thread_;
};

std::string id(int i) { return "ev-" + std::to_string(i); }

CollectorOptions options(const std::string& endpoint, const std::string& log_path,
                         int max_batch = 4096, const std::string& learner_endpoint = {}) {
  CollectorOptions o;
  o.endpoint = endpoint;
  o.log_path = log_path;
  o.max_batch = max_batch;
  o.learner_endpoint = learner_endpoint;
  return o;
}

}  // namespace

TEST_CASE("the collector stores and acknowledges decisions and rewards",
          "[feedback][integration]") {
  TempDir dir;
  const std::string path = dir.file("log.db");
  zmq::context_t zmq;
  RunningCollector running(zmq, options("inproc://store", path, 7));
  FeedbackClient client(zmq, "inproc://store");
  for (int i = 0; i < 50; ++i) {
    client.send(sample_decision(id(i), i % 2 ? "odd" : "even", 4, i));
    client.send(sample_reward(id(i), i % 3));
  }
  REQUIRE(client.flush(kFlushTimeoutMs));
  REQUIRE(client.unacknowledged() == 0);
  const CollectorStats stats = running.finish();
  CHECK(stats.decisions == 50);
  CHECK(stats.rewards == 50);
  CHECK(stats.joined == 50);
  CHECK(stats.duplicates == 0);
  CHECK(stats.rejected_frames == 0);
  // Batches hold at most max_batch = 7 messages.
  CHECK(stats.batches >= 100 / 7);

  EventLog log(path);
  CHECK(log.decision_count() == 50);
  CHECK(log.reward_count() == 50);
  std::map<std::string, double> rewards;
  log.for_each([&](const Interaction& i) { rewards[i.event_id] = i.reward; }, "odd");
  REQUIRE(rewards.size() == 25);
  for (int i = 1; i < 50; i += 2) CHECK(rewards.at(id(i)) == i % 3);
}

TEST_CASE("a duplicate event is stored once and acknowledged again", "[feedback][integration]") {
  TempDir dir;
  const std::string path = dir.file("log.db");
  zmq::context_t zmq;
  RunningCollector running(zmq, options("inproc://dup", path));
  FeedbackClient client(zmq, "inproc://dup");
  client.send(sample_decision("once"));
  client.send(sample_reward("once", 1.0));
  REQUIRE(client.flush(kFlushTimeoutMs));
  // Acked, so the client forgot them: these go out as new messages.
  client.send(sample_decision("once", "other-policy", 3, 2));
  client.send(sample_reward("once", 0.0));
  REQUIRE(client.flush(kFlushTimeoutMs));
  const CollectorStats stats = running.finish();
  CHECK(stats.decisions == 1);
  CHECK(stats.rewards == 1);
  CHECK(stats.duplicates == 2);
  CHECK(stats.joined == 1);

  EventLog log(path);
  CHECK(log.decision_count() == 1);
  CHECK(log.reward_count() == 1);
  std::vector<Interaction> seen;
  log.for_each([&](const Interaction& i) { seen.push_back(i); });
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].policy == "uniform");
  CHECK(seen[0].reward == 1.0);
}

TEST_CASE("joined interactions reach the learner stream exactly once", "[feedback][integration]") {
  TempDir dir;
  zmq::context_t zmq;
  RunningCollector running(zmq,
                           options("inproc://events", dir.file("log.db"), 5, "inproc://learner"));
  InteractionStream stream(zmq, "inproc://learner");
  FeedbackClient client(zmq, "inproc://events");
  constexpr int n = 40;
  // Rewards of the first half come before their decisions; every event is
  // sent twice, the second time after the first was acknowledged.
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < n / 2; ++i) client.send(sample_reward(id(i), 0.5 * i));
    for (int i = 0; i < n; ++i) client.send(sample_decision(id(i), "uniform", 4, i));
    for (int i = n / 2; i < n; ++i) client.send(sample_reward(id(i), 0.5 * i));
    REQUIRE(client.flush(kFlushTimeoutMs));
  }
  std::map<std::string, int> times_seen;
  for (int received = 0; received < n; ++received) {
    const auto interaction = stream.receive(kFlushTimeoutMs);
    REQUIRE(interaction.has_value());
    ++times_seen[interaction->event_id];
    const int i = std::stoi(interaction->event_id.substr(3));
    CHECK(interaction->reward == 0.5 * i);
    CHECK(interaction->action == sample_decision(id(i), "uniform", 4, i).decision.action);
    CHECK(interaction->truth == sample_decision(id(i), "uniform", 4, i).truth);
  }
  // Everything was joined before the last flush returned; anything more would
  // already be queued, so a short wait suffices to see it.
  CHECK_FALSE(stream.receive(200).has_value());
  REQUIRE(times_seen.size() == static_cast<std::size_t>(n));
  for (const auto& [event_id, times] : times_seen) CHECK(times == 1);
  const CollectorStats stats = running.finish();
  CHECK(stats.joined == static_cast<std::uint64_t>(n));
  CHECK(stats.duplicates == static_cast<std::uint64_t>(2 * n));
  CHECK(stats.undelivered == 0);
}

TEST_CASE("everything sent before the collector starts arrives once it does",
          "[feedback][integration]") {
  TempDir dir;
  const std::string path = dir.file("log.db");
  zmq::context_t zmq;
  FeedbackClient client(zmq, "inproc://late", {.resend_timeout_ms = 20});
  for (int i = 0; i < 30; ++i) {
    client.send(sample_decision(id(i)));
    client.send(sample_reward(id(i)));
  }
  // Nobody is listening: nothing can be acknowledged, and resends fall due.
  REQUIRE_FALSE(client.flush(100));
  REQUIRE(client.unacknowledged() == 60);
  REQUIRE(client.resends() > 0);

  RunningCollector running(zmq, options("inproc://late", path));
  REQUIRE(client.flush(kFlushTimeoutMs));
  const CollectorStats stats = running.finish();
  CHECK(stats.decisions == 30);
  CHECK(stats.rewards == 30);
  EventLog log(path);
  CHECK(log.interaction_count() == 30);
}

TEST_CASE("the client resends an unacknowledged message until it is acknowledged",
          "[feedback][integration]") {
  zmq::context_t zmq;
  zmq::socket_t router(zmq, zmq::socket_type::router);
  router.set(zmq::sockopt::linger, 0);
  router.bind("inproc://manual");
  FeedbackClient client(zmq, "inproc://manual", {.resend_timeout_ms = 30});
  client.send(sample_reward("r1", 0.25));

  // Receives one message from the client: [routing id, parts...].
  auto receive = [&] {
    std::vector<zmq::message_t> parts;
    zmq::pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
    // The client resends only inside poll(), so drive it while waiting.
    for (int waited_ms = 0; waited_ms < kFlushTimeoutMs; waited_ms += 10) {
      if (zmq::poll(&item, 1, std::chrono::milliseconds(10)) > 0) break;
      client.poll(0);
    }
    REQUIRE(item.revents & ZMQ_POLLIN);
    do {
      parts.emplace_back();
      REQUIRE(router.recv(parts.back()));
    } while (parts.back().more());
    return parts;
  };
  const auto first = receive();
  REQUIRE(first.size() == 6);  // routing id + the rew2 frame
  CHECK(first[1].to_string() == kRewardTag);
  CHECK(first[2].to_string() == "r1");
  // No ack: the same message comes again.
  const auto second = receive();
  REQUIRE(second.size() == 6);
  CHECK(second[2].to_string() == "r1");
  CHECK(client.resends() >= 1);
  REQUIRE(client.unacknowledged() == 1);

  // Acknowledge it: the client forgets it and sends nothing more.
  router.send(zmq::buffer(second[0].to_string()), zmq::send_flags::sndmore);
  const Frames ack = encode_ack(EventKind::reward, "r1");
  router.send(zmq::buffer(ack[0]), zmq::send_flags::sndmore);
  router.send(zmq::buffer(ack[1]), zmq::send_flags::sndmore);
  router.send(zmq::buffer(ack[2]), zmq::send_flags::none);
  REQUIRE(client.flush(kFlushTimeoutMs));
  // Drain copies already queued before the ack, then expect silence for
  // several resend timeouts.
  zmq::message_t leftover;
  while (router.recv(leftover, zmq::recv_flags::dontwait)) {
  }
  for (int i = 0; i < 5; ++i) client.poll(30);
  CHECK_FALSE(router.recv(leftover, zmq::recv_flags::dontwait).has_value());
}

TEST_CASE("malformed frames are counted and never acknowledged", "[feedback][integration]") {
  TempDir dir;
  zmq::context_t zmq;
  RunningCollector running(zmq, options("inproc://garbage", dir.file("log.db")));
  zmq::socket_t dealer(zmq, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.connect("inproc://garbage");
  auto send_parts = [&](const std::vector<std::string>& parts) {
    for (std::size_t i = 0; i < parts.size(); ++i) {
      dealer.send(zmq::buffer(parts[i]),
                  i + 1 < parts.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
  };
  send_parts({"rew1", "bad", "nan", "5"});
  send_parts({"dec1", "bad", "not a payload"});
  send_parts({"hello"});
  send_parts({"rew1", "a", "1", "2", "3", "4", "5", "6"});
  send_parts(encode_reward(Reward{"good", 1.0, 5}));

  // Only the good message is acknowledged, and it comes after the bad ones.
  std::vector<zmq::message_t> parts;
  zmq::pollitem_t item{dealer.handle(), 0, ZMQ_POLLIN, 0};
  REQUIRE(zmq::poll(&item, 1, std::chrono::milliseconds(kFlushTimeoutMs)) == 1);
  do {
    parts.emplace_back();
    REQUIRE(dealer.recv(parts.back()));
  } while (parts.back().more());
  REQUIRE(parts.size() == 3);
  CHECK(parts[2].to_string() == "good");
  zmq::message_t extra;
  CHECK_FALSE(dealer.recv(extra, zmq::recv_flags::dontwait).has_value());
  const CollectorStats stats = running.finish();
  CHECK(stats.rejected_frames == 4);
  CHECK(stats.rewards == 1);
}

TEST_CASE("version 1, 2 and 3 decision frames are stored and acknowledged",
          "[feedback][integration]") {
  // Clients built before the slot field send "dec1", those before the slot's
  // conditional "dec2", those before sessions "dec3"; the decoder reads them
  // all and the collector must route them like "dec4", not reject them.
  const int version = GENERATE(1, 2, 3);
  TempDir dir;
  zmq::context_t zmq;
  RunningCollector running(zmq, options("inproc://old-client", dir.file("log.db")));
  zmq::socket_t dealer(zmq, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.connect("inproc://old-client");
  LoggedDecision sent = sample_decision("e-old", "uniform", 3, 1);
  sent.truth.clear();
  Frames frames = encode_decision(sent);
  // Version 2 payloads lack the f64 conditional before the context, version 1
  // payloads the u32 slot before it too (layout in feedback/wire.h).
  const std::size_t slot_offset = 4 + sent.decision.policy.size() + 36 + 4 + 8 * 3 + 4;
  // Version 3 payloads lack the empty session (4), step (4) and flags (1) after the conditional.
  frames[2].erase(slot_offset + 4 + 8, 4 + 4 + 1);
  if (version == 3) {
    frames[0] = std::string(kDecisionTagV3);
  } else if (version == 1) {
    frames[2].erase(slot_offset, 4 + 8);
    frames[0] = std::string(kDecisionTagV1);
  } else {
    frames[2].erase(slot_offset + 4, 8);
    frames[0] = std::string(kDecisionTagV2);
  }
  for (std::size_t i = 0; i < frames.size(); ++i) {
    dealer.send(zmq::buffer(frames[i]),
                i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
  std::vector<zmq::message_t> parts;
  zmq::pollitem_t item{dealer.handle(), 0, ZMQ_POLLIN, 0};
  REQUIRE(zmq::poll(&item, 1, std::chrono::milliseconds(kFlushTimeoutMs)) == 1);
  do {
    parts.emplace_back();
    REQUIRE(dealer.recv(parts.back()));
  } while (parts.back().more());
  REQUIRE(parts.size() == 3);
  CHECK(parts[2].to_string() == "e-old");
  const CollectorStats stats = running.finish();
  CHECK(stats.decisions == 1);
  CHECK(stats.rejected_frames == 0);
}

TEST_CASE("a collector that cannot bind names the endpoint", "[feedback][integration]") {
  TempDir dir;
  zmq::context_t zmq;
  Collector first(zmq, options("inproc://taken", dir.file("a.db")));
  REQUIRE_THROWS_WITH(Collector(zmq, options("inproc://taken", dir.file("b.db"))),
                      Catch::Contains("inproc://taken"));
  REQUIRE_THROWS_WITH(Collector(zmq, options("nonsense://x", dir.file("c.db"))),
                      Catch::Contains("nonsense://x"));
}

namespace {

constexpr std::int64_t kSecond = 1'000'000;

// A clock the test moves and the collector thread reads.
struct SharedClock {
  std::atomic<std::int64_t> now{1'800'000'000 * kSecond};
  std::function<std::int64_t()> function() {
    return [this] { return now.load(); };
  }
};

}  // namespace

TEST_CASE("a window closes on the collector loop and the default reward is pushed",
          "[feedback][integration]") {
  TempDir dir;
  zmq::context_t zmq;
  SharedClock clock;
  CollectorOptions o = options("inproc://window", dir.file("log.db"), 4096, "inproc://window-l");
  o.window_us = 60 * kSecond;
  o.default_reward = -1.0;
  o.poll_timeout_ms = 5;
  o.now_us = clock.function();
  RunningCollector running(zmq, o);
  InteractionStream stream(zmq, "inproc://window-l");
  FeedbackClient client(zmq, "inproc://window");
  client.send(sample_decision("rewarded"));
  client.send(sample_decision("silent", "uniform", 4, 2));
  client.send(Reward{"rewarded", 0.5, 1, "a"});
  REQUIRE(client.flush(kFlushTimeoutMs));
  CHECK_FALSE(stream.receive(50).has_value());  // the window is open
  clock.now += 60 * kSecond;
  std::map<std::string, double> rewards;
  for (int i = 0; i < 2; ++i) {
    const auto interaction = stream.receive(kFlushTimeoutMs);
    REQUIRE(interaction.has_value());
    rewards[interaction->event_id] = interaction->reward;
  }
  CHECK(rewards == std::map<std::string, double>{{"rewarded", 0.5}, {"silent", -1.0}});
  client.send(Reward{"silent", 1.0, 2, "b"});  // after the close: late
  REQUIRE(client.flush(kFlushTimeoutMs));
  const CollectorStats stats = running.finish();
  CHECK(stats.joined == 2);
  CHECK(stats.defaulted == 1);
  CHECK(stats.late == 1);
  CHECK(stats.rewards == 2);
}

TEST_CASE("a skip-learning decision reaches on_joined but not the learner",
          "[feedback][integration]") {
  TempDir dir;
  zmq::context_t zmq;
  CollectorOptions o = options("inproc://skip", dir.file("log.db"), 4096, "inproc://skip-l");
  std::vector<std::string> seen;  // written by the collector thread, read after finish()
  o.on_joined = [&seen](const Interaction& interaction) { seen.push_back(interaction.event_id); };
  RunningCollector running(zmq, o);
  InteractionStream stream(zmq, "inproc://skip-l");
  FeedbackClient client(zmq, "inproc://skip");
  LoggedDecision skipped = sample_decision("skip");
  skipped.decision.skip_learning = true;
  client.send(skipped);
  client.send(sample_reward("skip"));
  client.send(sample_decision("learn", "uniform", 4, 2));
  client.send(sample_reward("learn"));
  REQUIRE(client.flush(kFlushTimeoutMs));
  const auto pushed = stream.receive(kFlushTimeoutMs);
  REQUIRE(pushed.has_value());
  CHECK(pushed->event_id == "learn");
  CHECK_FALSE(stream.receive(200).has_value());
  const CollectorStats stats = running.finish();
  CHECK(stats.joined == 2);
  CHECK(stats.skipped_learning == 1);
  CHECK(stats.undelivered == 0);
  std::sort(seen.begin(), seen.end());
  CHECK(seen == std::vector<std::string>{"learn", "skip"});
}

TEST_CASE("an activation is acknowledged and joins a deferred decision",
          "[feedback][integration]") {
  TempDir dir;
  const std::string path = dir.file("log.db");
  zmq::context_t zmq;
  RunningCollector running(zmq, options("inproc://act", path));
  FeedbackClient client(zmq, "inproc://act");
  LoggedDecision deferred = sample_decision("later");
  deferred.decision.deferred = true;
  client.activate("early");  // before its decision
  client.send(deferred);
  client.send(sample_reward("later", 0.75));
  REQUIRE(client.flush(kFlushTimeoutMs));
  {
    EventLog log(path);
    CHECK(log.interaction_count() == 0);  // not activated yet
  }
  client.activate("later");
  LoggedDecision early = sample_decision("early", "uniform", 4, 2);
  early.decision.deferred = true;
  client.send(early);
  client.send(sample_reward("early", 0.25));
  REQUIRE(client.flush(kFlushTimeoutMs));
  const CollectorStats stats = running.finish();
  CHECK(stats.activations == 2);
  CHECK(stats.joined == 2);
  EventLog log(path);
  CHECK(log.interaction_count() == 2);
}

TEST_CASE("rewards with distinct reward ids for one event are each acknowledged and stored",
          "[feedback][integration]") {
  TempDir dir;
  const std::string path = dir.file("log.db");
  zmq::context_t zmq;
  // Sent before the collector is up, so nothing is acknowledged yet: one
  // pending entry per reward id.
  FeedbackClient client(zmq, "inproc://ids");
  client.send(sample_decision("e"));
  client.send(Reward{"e", 1.0, 1, "click"});
  client.send(Reward{"e", 2.0, 2, "buy"});
  REQUIRE(client.unacknowledged() == 3);
  CollectorOptions o = options("inproc://ids", path);
  o.window_us = 3600 * kSecond;
  o.aggregation = RewardAggregation::sum;
  RunningCollector running(zmq, o);
  REQUIRE(client.flush(kFlushTimeoutMs));
  client.send(Reward{"e", 1.0, 1, "click"});  // a resend after the ack
  REQUIRE(client.flush(kFlushTimeoutMs));
  const CollectorStats stats = running.finish();
  CHECK(stats.rewards == 2);
  CHECK(stats.duplicates == 1);
  EventLog log(path);
  CHECK(log.reward_count() == 2);
}

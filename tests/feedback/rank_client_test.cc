// SPDX-License-Identifier: Apache-2.0
// The rank client: retries on a fresh socket under the same event id, fails
// over to the next endpoint, gives up after its retries, and gets a real
// decision server's decisions.
#include "core/config.h"
#include "feedback/decision_server.h"
#include "feedback/rank_client.h"
#include "policies/registry.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <atomic>
#include <chrono>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace recloop;
using nlohmann::json;

namespace {

constexpr int kShortTimeoutMs = 200;

const json kRequest = json::parse(
    R"({"contextFeatures": {"a": 0.5, "b": 1}, "actions": [{"id": 0, "features": {"w": 1}},
        {"id": 1, "features": {"w": 1}}]})");

// A ROUTER standing in for a decision server: it records the body of every
// request, and answers only those whose index `answer` accepts (by echoing
// {"eventId": ..., "n": index}). Runs until destroyed.
class FakeServer {
 public:
  template <typename Answer>
  FakeServer(zmq::context_t& zmq, Answer answer) : socket_(zmq, zmq::socket_type::router) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.bind("tcp://127.0.0.1:*");
    endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
    thread_ = std::thread([this, answer] {
      while (!stop_.load()) {
        zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
        if (zmq::poll(&item, 1, std::chrono::milliseconds(20)) <= 0) continue;
        std::vector<zmq::message_t> parts;
        if (!zmq::recv_multipart(socket_, std::back_inserter(parts))) continue;
        const json body = json::parse(parts.back().to_string_view());
        int index = 0;
        {
          std::lock_guard lock(mutex_);
          index = static_cast<int>(received_.size());
          received_.push_back(body);
        }
        if (!answer(index)) continue;
        parts.back() = zmq::message_t(json{{"eventId", body.at("eventId")}, {"n", index}}.dump());
        zmq::send_multipart(socket_, parts);
      }
    });
  }
  ~FakeServer() {
    stop_.store(true);
    thread_.join();
  }
  const std::string& endpoint() const { return endpoint_; }
  std::vector<json> received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  zmq::socket_t socket_;
  std::string endpoint_;
  mutable std::mutex mutex_;
  std::vector<json> received_;  // guarded by mutex_
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

TEST_CASE("a rank client retries a timed-out request on a fresh socket under the same event id",
          "[feedback][integration]") {
  zmq::context_t zmq;
  FakeServer server(zmq, [](int index) { return index >= 1; });  // drops the first request
  RankClient client(zmq, {.endpoints = {server.endpoint()}, .timeout_ms = kShortTimeoutMs,
                          .retries = 2, .event_id_prefix = "t"});
  const auto reply = client.rank(kRequest);
  REQUIRE(reply);
  CHECK(reply->attempts == 2);
  CHECK(reply->event_id == "t-0");
  CHECK(reply->json.at("eventId") == "t-0");
  CHECK(reply->json.at("n") == 1);  // the reply to the retry, not a stale one
  REQUIRE(server.received().size() == 2);
  CHECK(server.received()[0].at("eventId") == "t-0");
  CHECK(server.received()[1].at("eventId") == "t-0");
  CHECK(client.stats().requests == 1);
  CHECK(client.stats().retries == 1);
  CHECK(client.stats().failovers == 0);
  CHECK(client.stats().answered == 1);
}

TEST_CASE("a rank client keeps the event id the request gives and numbers the ones it adds",
          "[feedback][integration]") {
  zmq::context_t zmq;
  FakeServer server(zmq, [](int) { return true; });
  RankClient client(zmq, {.endpoints = {server.endpoint()}, .event_id_prefix = "p"});
  json given = kRequest;
  given["eventId"] = "mine";
  CHECK(client.rank(given)->event_id == "mine");
  CHECK(client.rank(kRequest)->event_id == "p-0");
  CHECK(client.rank_text(kRequest.dump())->event_id == "p-1");
  CHECK(client.stats().retries == 0);
}

TEST_CASE("a rank client fails over to the next endpoint and stays with the one that answered",
          "[feedback][integration]") {
  zmq::context_t zmq;
  FakeServer silent(zmq, [](int) { return false; });
  FakeServer live(zmq, [](int) { return true; });
  RankClient client(zmq, {.endpoints = {silent.endpoint(), live.endpoint()},
                          .timeout_ms = kShortTimeoutMs, .retries = 1});
  const auto first = client.rank(kRequest);
  REQUIRE(first);
  CHECK(first->endpoint == live.endpoint());
  CHECK(client.stats().failovers == 1);
  CHECK(client.current_endpoint() == live.endpoint());
  const auto second = client.rank(kRequest);
  REQUIRE(second);
  CHECK(second->attempts == 1);
  CHECK(client.stats().failovers == 1);
  REQUIRE(silent.received().size() == 1);
  REQUIRE(live.received().size() == 2);
  CHECK(silent.received()[0].at("eventId") == live.received()[0].at("eventId"));
}

TEST_CASE("a rank client gives up after its retries when no server answers",
          "[feedback][integration]") {
  zmq::context_t zmq;
  FakeServer silent(zmq, [](int) { return false; });
  RankClient client(zmq, {.endpoints = {silent.endpoint()}, .timeout_ms = 50, .retries = 2});
  CHECK_FALSE(client.rank(kRequest));
  CHECK(client.stats().requests == 1);
  CHECK(client.stats().retries == 2);
  CHECK(client.stats().abandoned == 1);
  CHECK(silent.received().size() == 3);
}

TEST_CASE("a rank client refuses a request that is not a JSON object", "[feedback]") {
  zmq::context_t zmq;
  RankClient client(zmq, {.endpoints = {"tcp://127.0.0.1:1"}});
  CHECK_THROWS_AS(client.rank_text("[1, 2]"), std::invalid_argument);
  CHECK_THROWS_AS(client.rank_text("{"), std::invalid_argument);
  CHECK_THROWS_AS(RankClient(zmq, {}), std::invalid_argument);
  CHECK(client.stats().requests == 0);
}

TEST_CASE("a rank client gets a decision server's decision with its probability",
          "[feedback][integration]") {
  zmq::context_t zmq;
  ConfigSection section("epsilon_greedy");
  section.set("epsilon", "0.5");
  std::shared_ptr<const Policy> policy = make_policy("epsilon_greedy", section, 3);
  DecisionServerOptions options;
  options.endpoint = "tcp://127.0.0.1:*";
  DecisionServer server(zmq, options, FeatureSchema::from_names({}, {}, 2, 1), {policy, {}, 0});
  std::atomic<bool> stop{false};
  std::thread serving([&] { server.run(stop); });
  RankClient client(zmq, {.endpoints = {server.endpoint()}});
  const auto reply = client.rank(kRequest);
  stop.store(true);
  serving.join();
  REQUIRE(reply);
  REQUIRE(reply->ok());
  CHECK(reply->json.at("eventId") == reply->event_id);
  const auto& ranking = reply->json.at("ranking");
  REQUIRE(ranking.size() == 2);
  CHECK(ranking[0].at("id") == reply->json.at("rewardActionId"));
  // An untrained epsilon-greedy policy over two candidates: every pmf entry is >= epsilon / 2.
  CHECK(ranking[0].at("probability").get<double>() >= 0.25);
}

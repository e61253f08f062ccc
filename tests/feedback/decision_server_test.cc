// SPDX-License-Identifier: Apache-2.0
// The decision server: request parsing, concurrent answers that are exactly the
// policy's decisions, refusal of bad requests, and snapshot swaps.
#include "core/config.h"
#include "core/rng.h"
#include "core/sampling.h"
#include "feedback/decision_server.h"
#include "tests/support/live_fixtures.h"
#include "feedback/wire.h"
#include "policies/ranker_registry.h"
#include "policies/registry.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace recloop;
using nlohmann::json;

namespace {

constexpr int kReplyTimeoutMs = 10000;

FeatureSchema schema_2_1() { return FeatureSchema::from_names({}, {}, 2, 1); }

// An epsilon-greedy policy trained so that the best of items 0..3 depends on
// the first user feature: its pmf has distinct values that differ by context.
std::shared_ptr<const Policy> trained_policy() {
  return recloop::testing::trained_epsilon_greedy({0, 1, 2, 3});
}

// The request for context x with items 0..3, as JSON with keys in a different
// order from the vector's, and its Context as the server must build it.
json request_for(double x, const std::string& event_id) {
  json actions = json::array();
  for (int a = 0; a < 4; ++a) actions.push_back({{"id", a}, {"features", {{"w", 1}}}});
  return {{"eventId", event_id}, {"contextFeatures", {{"b", 1}, {"a", x}}}, {"actions", actions}};
}

Context context_for(double x) {
  Context context;
  context.user = Eigen::Vector2d(x, 1.0);  // keys "a" then "b"
  context.actions = Eigen::MatrixXd::Ones(1, 4);
  context.items = {0, 1, 2, 3};
  return context;
}

// One REQ socket asking `endpoint`; the reply, or an empty object on timeout.
class Asker {
 public:
  Asker(zmq::context_t& zmq, const std::string& endpoint) : socket_(zmq, zmq::socket_type::req) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.connect(endpoint);
  }
  json ask(const std::string& body) {
    socket_.send(zmq::buffer(body), zmq::send_flags::none);
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(kReplyTimeoutMs)) <= 0) return json::object();
    zmq::message_t reply;
    if (!socket_.recv(reply)) return json::object();
    return json::parse(reply.to_string_view());
  }

 private:
  zmq::socket_t socket_;
};

// A server on a loopback wildcard port, served by a thread until destroyed.
struct RunningServer {
  RunningServer(zmq::context_t& zmq, PolicySnapshot first, int threads,
                std::size_t max_request_bytes = 1u << 20)
      : server(zmq, options(threads, max_request_bytes), schema_2_1(), std::move(first)),
        thread([this] { server.run(stop); }) {}
  static DecisionServerOptions options(int threads, std::size_t max_request_bytes) {
    DecisionServerOptions options;
    options.endpoint = "tcp://127.0.0.1:*";
    options.threads = threads;
    options.max_request_bytes = max_request_bytes;
    options.run_seed = 7;
    return options;
  }
  ~RunningServer() {
    stop.store(true);
    thread.join();
  }
  std::atomic<bool> stop{false};
  DecisionServer server;
  std::thread thread;
};

}  // namespace

TEST_CASE("request features become vectors in key order, or in the order of the listed names",
          "[feedback]") {
  const std::string body =
      R"({"contextFeatures": [{"zeta": 3}, {"alpha": 1, "mid": true}],
          "actions": [{"id": "x", "features": {"q": 5, "p": 4}}, {"id": 9, "features": [{"p": 6}]}]})";
  SECTION("by key") {
    const auto request = parse_rank_request(
        R"({"contextFeatures": [{"zeta": 3}, {"alpha": 1, "mid": true}],
            "actions": [{"id": "x", "features": {"q": 5, "p": 4}}, {"id": 9, "features": {"q": 7, "p": 6}}]})",
        FeatureSchema::from_names({}, {}, 3, 2));
    CHECK(request.context.user == Eigen::Vector3d(1, 1, 3));
    CHECK(request.context.actions.col(0) == Eigen::Vector2d(4, 5));
    CHECK(request.context.actions.col(1) == Eigen::Vector2d(6, 7));
    CHECK_FALSE(request.event_id);
  }
  SECTION("by name, a missing name is 0") {
    const auto request =
        parse_rank_request(body, FeatureSchema::from_names({"zeta", "alpha", "gone", "mid"},
                                                           {"q", "p"}, 0, 0));
    CHECK(request.context.user == Eigen::Vector4d(3, 1, 0, 1));
    CHECK(request.context.actions.col(0) == Eigen::Vector2d(5, 4));
    CHECK(request.context.actions.col(1) == Eigen::Vector2d(0, 6));
    REQUIRE(request.ids.size() == 2);
    CHECK(request.ids[0] == "x");
    CHECK(request.ids[1] == 9);
    CHECK(request.context.items[0] == fnv1a64("x"));
    CHECK(request.context.items[1] == 9);
  }
}

TEST_CASE("a bad rank request is refused with a message naming what was wrong", "[feedback]") {
  const FeatureSchema schema = schema_2_1();
  const auto [body, expected] = GENERATE(table<std::string, std::string>({
      {"{not json", "not valid JSON"},
      {"[1, 2]", "must be a JSON object"},
      {R"({"contextFeatures": {"a": 1, "b": 2}, "actions": []})", "non-empty array"},
      {R"({"contextFeatures": {"a": 1, "b": 2}})", "non-empty array"},
      {R"({"contextFeatures": {"a": 1}, "actions": [{"id": 1, "features": {"w": 1}}]})",
       "has 1 features, the server expects 2"},
      {R"({"contextFeatures": {"a": 1, "b": "x"}, "actions": [{"id": 1, "features": {"w": 1}}]})",
       "feature 'b'"},
      {R"({"contextFeatures": {"a": 1, "b": 1e999}, "actions": [{"id": 1, "features": {"w": 1}}]})",
       "not valid JSON"},
      {R"({"contextFeatures": [{"a": 1}, {"a": 2}], "actions": [{"id": 1, "features": {"w": 1}}]})",
       "'a' is given twice"},
      {R"({"contextFeatures": {"a": 1, "b": 2}, "actions": [{"id": 1, "features": {"w": 1, "v": 2}}]})",
       "actions[0] has 2 features"},
      {R"({"contextFeatures": {"a": 1, "b": 2}, "actions": [{"id": 1, "features": {"w": 1}}, {"id": "1", "features": {"w": 1}}]})",
       "repeats an earlier candidate"},
      {R"({"contextFeatures": {"a": 1, "b": 2}, "actions": [{"id": -3, "features": {"w": 1}}]})",
       "is negative"},
      {R"({"contextFeatures": {"a": 1, "b": 2}, "actions": [{"id": 1, "features": {"w": 1}}], "slots": 2})",
       "slots must be"},
      {R"({"contextFeatures": {"a": 1, "b": 2}, "actions": [{"id": 1, "features": {"w": 1}}], "baselineAction": 2})",
       "baselineAction 2"},
      {R"({"eventId": "", "contextFeatures": {"a": 1, "b": 2}, "actions": [{"id": 1, "features": {"w": 1}}]})",
       "eventId must have"},
      {R"({"contextFeature": {"a": 1, "b": 2}, "actions": [{"id": 1, "features": {"w": 1}}]})",
       "unknown field 'contextFeature'"},
  }));
  INFO(body);
  REQUIRE_THROWS_WITH(parse_rank_request(body, schema), Catch::Contains(expected));
}

TEST_CASE("concurrent clients of a two-thread server each get the policy's decision for their request",
          "[feedback][integration]") {
  const auto policy = trained_policy();
  zmq::context_t zmq;
  RunningServer running(zmq, {.policy = policy, .ranker = nullptr, .version = 5}, 2);
  constexpr int kClients = 4;
  constexpr int kRequests = 60;
  std::atomic<int> correct{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      Asker asker(zmq, running.server.endpoint());
      for (int r = 0; r < kRequests; ++r) {
        const double x = ((c * kRequests + r) % 11) / 10.0;
        std::string event_id = "c";  // appended, not "c" + ...: g++ 12 -Wrestrict false positive
        event_id += std::to_string(c);
        event_id += '-';
        event_id += std::to_string(r);
        const json reply = asker.ask(request_for(x, event_id).dump());
        // What the policy itself decides for this event id and seed.
        const Decision expected = policy->choose(context_for(x), event_id, 7);
        bool ok = reply.value("eventId", "") == event_id && reply.value("modelVersion", 0) == 5 &&
                  reply.contains("rewardActionId") && reply["rewardActionId"] == expected.item &&
                  reply["ranking"].size() == 4 && reply["ranking"][0]["id"] == expected.item;
        for (const auto& entry : reply.value("ranking", json::array())) {
          ok = ok && entry["probability"].get<double>() == expected.pmf[entry["id"].get<std::size_t>()];
        }
        if (ok) correct.fetch_add(1);
      }
    });
  }
  for (auto& client : clients) client.join();
  CHECK(correct.load() == kClients * kRequests);
  const auto stats = running.server.stats();
  CHECK(stats.answered == static_cast<std::uint64_t>(kClients * kRequests));
  CHECK(stats.rejected == 0);
}

TEST_CASE("malformed requests are refused and counted while the server goes on serving",
          "[feedback][integration]") {
  zmq::context_t zmq;
  RunningServer running(zmq, {.policy = trained_policy(), .ranker = nullptr, .version = 0}, 2,
                        /*max_request_bytes=*/2000);
  Asker asker(zmq, running.server.endpoint());
  CHECK_THAT(asker.ask("{oops").value("error", ""), Catch::Contains("not valid JSON"));
  json big = request_for(0.5, "big");
  std::string oversized = big.dump();
  oversized.insert(oversized.size() - 1, std::string(5000, ' '));
  CHECK_THAT(asker.ask(oversized).value("error", ""), Catch::Contains("more than the 2000 allowed"));
  json wrong = request_for(0.5, "wrong");
  wrong["contextFeatures"]["c"] = 1;
  CHECK_THAT(asker.ask(wrong.dump()).value("error", ""), Catch::Contains("has 3 features"));
  {
    // Two parts from a DEALER: delimiter, then two body parts.
    zmq::socket_t dealer(zmq, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 0);
    dealer.connect(running.server.endpoint());
    std::vector<zmq::const_buffer> parts{zmq::str_buffer(""), zmq::str_buffer("{}"),
                                         zmq::str_buffer("{}")};
    REQUIRE(zmq::send_multipart(dealer, parts));
    std::vector<zmq::message_t> reply;
    zmq::pollitem_t item{dealer.handle(), 0, ZMQ_POLLIN, 0};
    REQUIRE(zmq::poll(&item, 1, std::chrono::milliseconds(kReplyTimeoutMs)) == 1);
    REQUIRE(zmq::recv_multipart(dealer, std::back_inserter(reply)));
    REQUIRE(reply.size() == 2);
    CHECK_THAT(reply[1].to_string(), Catch::Contains("one message part"));
  }
  const json good = asker.ask(request_for(0.5, "good").dump());
  CHECK(good.value("eventId", "") == "good");
  CHECK_FALSE(good.contains("error"));
  const auto stats = running.server.stats();
  CHECK(stats.rejected == 4);
  CHECK(stats.answered == 1);
  CHECK(stats.requests == 5);
}

TEST_CASE("after publish, replies report the new snapshot's model version",
          "[feedback][integration]") {
  zmq::context_t zmq;
  RunningServer running(zmq, {.policy = trained_policy(), .ranker = nullptr, .version = 1}, 2);
  Asker asker(zmq, running.server.endpoint());
  CHECK(asker.ask(request_for(0.1, "before").dump()).value("modelVersion", 0) == 1);
  running.server.publish({.policy = trained_policy(), .ranker = nullptr, .version = 2});
  CHECK(asker.ask(request_for(0.1, "after").dump()).value("modelVersion", 0) == 2);
  CHECK(running.server.stats().swaps == 1);
}

TEST_CASE("a single-slot answer logs the decision whose probability the reply reports",
          "[feedback]") {
  const auto policy = trained_policy();
  zmq::context_t zmq;
  DecisionServer server(zmq, RunningServer::options(1, 1u << 20), schema_2_1(),
                        {.policy = policy, .ranker = nullptr, .version = 3});
  std::vector<LoggedDecision> logged;
  const json reply = json::parse(server.answer(request_for(0.9, "one").dump(), logged));
  REQUIRE(logged.size() == 1);
  const Decision& decision = logged[0].decision;
  CHECK(decision.event_id == "one");
  CHECK(decision.model_version == 3);
  CHECK(reply.at("rewardActionId") == decision.item);
  CHECK(reply.at("ranking")[0].at("probability").get<double>() == decision.probability);
  CHECK(decision.pmf == policy->pmf(context_for(0.9)));
  CHECK(logged[0].context.user == context_for(0.9).user);
}

TEST_CASE("a slots request logs one decision per slot under <eventId>/<k>", "[feedback]") {
  const auto policy = trained_policy();
  ConfigSection section("plackett_luce");
  std::shared_ptr<const Ranker> ranker = make_ranker("plackett_luce", section, policy);
  zmq::context_t zmq;
  DecisionServer server(zmq, RunningServer::options(1, 1u << 20), schema_2_1(),
                        {.policy = policy, .ranker = ranker, .version = 0});
  json request = request_for(0.3, "page");
  request["slots"] = 3;
  std::vector<LoggedDecision> logged;
  const json reply = json::parse(server.answer(request.dump(), logged));
  INFO(reply.dump());
  REQUIRE(logged.size() == 3);
  REQUIRE(reply.at("ranking").size() == 3);
  const Eigen::MatrixXd marginals = ranker->marginals(context_for(0.3), 3);
  std::set<ItemId> shown;
  for (std::size_t k = 0; k < 3; ++k) {
    const json& entry = reply["ranking"][k];
    const Decision& decision = logged[k].decision;
    std::string slot_event_id = "page/";
    slot_event_id += std::to_string(k);
    CHECK(entry.at("eventId") == slot_event_id);
    CHECK(decision.event_id == entry["eventId"]);
    CHECK(decision.slot == k);
    CHECK(entry.at("id") == decision.item);
    CHECK(entry.at("probability").get<double>() == decision.probability);
    CHECK(decision.probability ==
          Approx(marginals(decision.action, static_cast<Eigen::Index>(k))).margin(1e-12));
    shown.insert(decision.item);
  }
  CHECK(shown.size() == 3);
  CHECK(reply.at("rewardActionId") == reply["ranking"][0]["id"]);

  // Without a ranker, a slots request is refused.
  DecisionServer plain(zmq, RunningServer::options(1, 1u << 20), schema_2_1(),
                       {.policy = policy, .ranker = nullptr, .version = 0});
  logged.clear();
  CHECK_THAT(plain.answer(request.dump(), logged), Catch::Contains("no ranker"));
  CHECK(logged.empty());
}

namespace {

// A server that is only asked through answer(), with apprentice mode on or off.
DecisionServerOptions apprentice_options(bool apprentice) {
  DecisionServerOptions options = RunningServer::options(1, 1u << 20);
  options.apprentice = apprentice;
  return options;
}

}  // namespace

TEST_CASE("a request's session, step and flags are carried onto the decision it logs",
          "[feedback]") {
  zmq::context_t zmq;
  DecisionServer server(zmq, RunningServer::options(1, 1u << 20), schema_2_1(),
                        {.policy = trained_policy(), .ranker = nullptr, .version = 0});
  json request = request_for(0.4, "e1");
  request["sessionId"] = "s-9";
  request["step"] = 3;
  request["deferActivation"] = true;
  request["skipLearning"] = true;
  std::vector<LoggedDecision> logged;
  server.answer(request.dump(), logged);
  REQUIRE(logged.size() == 1);
  CHECK(logged[0].decision.session == "s-9");
  CHECK(logged[0].decision.step == 3);
  CHECK(logged[0].decision.deferred);
  CHECK(logged[0].decision.skip_learning);

  logged.clear();
  server.answer(request_for(0.4, "e2").dump(), logged);
  REQUIRE(logged.size() == 1);
  CHECK(logged[0].decision.session.empty());
  CHECK(logged[0].decision.step == 0);
  CHECK_FALSE(logged[0].decision.deferred);
  CHECK_FALSE(logged[0].decision.skip_learning);
}

TEST_CASE("a bad sessionId, step or flag is refused with a message naming the field",
          "[feedback]") {
  const auto refusal = [](const std::string& key, const json& value, bool with_session) {
    json request = request_for(0.1, "e");
    if (with_session) request["sessionId"] = "s";
    request[key] = value;
    try {
      parse_rank_request(request.dump(), schema_2_1());
    } catch (const RequestError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK_THAT(refusal("sessionId", 7, false), Catch::Contains("sessionId must be a string"));
  CHECK_THAT(refusal("sessionId", "", false), Catch::Contains("sessionId must have 1 .."));
  CHECK_THAT(refusal("sessionId", "a\nb", false), Catch::Contains("control character"));
  CHECK_THAT(refusal("step", -1, true), Catch::Contains("step must be an integer"));
  CHECK_THAT(refusal("step", 1.5, true), Catch::Contains("step must be an integer"));
  CHECK_THAT(refusal("step", 4294967296ULL, true), Catch::Contains("step must be an integer"));
  CHECK_THAT(refusal("step", 2, false), Catch::Contains("without a sessionId"));
  CHECK_THAT(refusal("deferActivation", 1, false), Catch::Contains("deferActivation must be true"));
  CHECK_THAT(refusal("skipLearning", "yes", false), Catch::Contains("skipLearning must be true"));
  CHECK(refusal("step", 4294967295ULL, true).empty());
}

TEST_CASE("in apprentice mode the baseline is served and logged with probability one as the "
          "baseline policy's",
          "[feedback]") {
  const auto policy = trained_policy();
  zmq::context_t zmq;
  DecisionServer server(zmq, apprentice_options(true), schema_2_1(),
                        {.policy = policy, .ranker = nullptr, .version = 5});
  json request = request_for(0.9, "a1");
  request["baselineAction"] = 2;
  std::vector<LoggedDecision> logged;
  const json reply = json::parse(server.answer(request.dump(), logged));
  const Decision own = policy->choose(context_for(0.9), "a1", 7);  // the server's run seed
  CHECK(reply.at("rewardActionId") == 2);
  CHECK(reply.at("apprentice") == true);
  CHECK(reply.at("policy") == std::string(kBaselinePolicy));
  CHECK(reply.at("policyActionId") == own.action);  // candidate ids are 0..3
  CHECK(reply.at("ranking")[0].at("id") == 2);
  CHECK(reply.at("ranking")[0].at("probability") == 1.0);
  CHECK(reply.at("ranking")[1].at("probability") == 0.0);
  REQUIRE(logged.size() == 1);
  const Decision& decision = logged[0].decision;
  CHECK(decision.action == 2);
  CHECK(decision.item == 2);
  CHECK(decision.probability == 1.0);
  CHECK(decision.pmf == std::vector<double>{0.0, 0.0, 1.0, 0.0});
  CHECK(decision.policy == std::string(kBaselinePolicy));
  CHECK(decision.model_version == 5);
  // The record satisfies the probability contract the collector checks.
  const Frames frames = encode_decision(logged[0]);
  const std::vector<std::string_view> parts(frames.begin(), frames.end());
  const auto received = decode_decision(parts);
  REQUIRE(received);
  CHECK(received->decision.probability == 1.0);
  CHECK(received->decision.policy == std::string(kBaselinePolicy));
}

TEST_CASE("apprentice agreements count the requests whose policy draw was the baseline",
          "[feedback]") {
  const auto policy = trained_policy();
  zmq::context_t zmq;
  DecisionServer server(zmq, apprentice_options(true), schema_2_1(),
                        {.policy = policy, .ranker = nullptr, .version = 0});
  std::uint64_t expected = 0;
  constexpr int kRequests = 200;
  for (int i = 0; i < kRequests; ++i) {
    const double x = (i % 10) / 10.0;
    std::string id = "g";  // not "g" + to_string(i): GCC 12 warns falsely (-Wrestrict)
    id += std::to_string(i);
    json request = request_for(x, id);
    request["baselineAction"] = 0;
    std::vector<LoggedDecision> logged;
    server.answer(request.dump(), logged);
    if (policy->choose(context_for(x), id, 7).action == 0) ++expected;
  }
  // A request without a baseline is the policy's and is not counted.
  std::vector<LoggedDecision> logged;
  server.answer(request_for(0.5, "plain").dump(), logged);
  const DecisionServerStats stats = server.stats();
  CHECK(stats.apprentice_decisions == kRequests);
  CHECK(stats.apprentice_agreements == expected);
  CHECK(expected > 0);
  CHECK(expected < kRequests);
}

TEST_CASE("in apprentice mode a request without a baseline is served by the policy",
          "[feedback]") {
  const auto policy = trained_policy();
  zmq::context_t zmq;
  DecisionServer server(zmq, apprentice_options(true), schema_2_1(),
                        {.policy = policy, .ranker = nullptr, .version = 0});
  std::vector<LoggedDecision> logged;
  const json reply = json::parse(server.answer(request_for(0.3, "p1").dump(), logged));
  const Decision own = policy->choose(context_for(0.3), "p1", 7);
  REQUIRE(logged.size() == 1);
  CHECK(logged[0].decision.action == own.action);
  CHECK(logged[0].decision.probability == own.probability);
  CHECK(logged[0].decision.policy == own.policy);
  CHECK_FALSE(reply.contains("apprentice"));
  CHECK(server.stats().apprentice_decisions == 0);
}

TEST_CASE("without apprentice mode a baseline is only echoed", "[feedback]") {
  const auto policy = trained_policy();
  zmq::context_t zmq;
  DecisionServer server(zmq, apprentice_options(false), schema_2_1(),
                        {.policy = policy, .ranker = nullptr, .version = 0});
  json request = request_for(0.9, "b1");
  request["baselineAction"] = 3;
  std::vector<LoggedDecision> logged;
  const json reply = json::parse(server.answer(request.dump(), logged));
  const Decision own = policy->choose(context_for(0.9), "b1", 7);
  REQUIRE(logged.size() == 1);
  CHECK(logged[0].decision.action == own.action);
  CHECK(logged[0].decision.probability == own.probability);
  CHECK(reply.at("baselineAction") == 3);
  CHECK(reply.at("rewardActionId") == own.action);
  CHECK_FALSE(reply.contains("apprentice"));
  CHECK(server.stats().apprentice_decisions == 0);
}

namespace {

// Everything a parse gives, exactly (doubles in hex, so -0.0 differs from
// 0.0), or "error: <message>".
std::string outcome(std::string_view body, const FeatureSchema& schema, bool tree) {
  RankRequest r;
  try {
    r = tree ? parse_rank_request_tree(body, schema) : parse_rank_request(body, schema);
  } catch (const RequestError& e) {
    return std::string("error: ") + e.what();
  }
  std::string out = "event=" + (r.event_id ? "'" + *r.event_id + "'" : std::string("-"));
  char number[64];
  auto add_double = [&](double v) {
    std::snprintf(number, sizeof number, " %a", v);
    out += number;
  };
  out += " user:";
  for (Eigen::Index i = 0; i < r.context.user.size(); ++i) add_double(r.context.user[i]);
  out += " actions " + std::to_string(r.context.actions.rows()) + "x" +
         std::to_string(r.context.actions.cols()) + ":";
  for (Eigen::Index i = 0; i < r.context.actions.size(); ++i) add_double(r.context.actions.data()[i]);
  out += " items:";
  for (const ItemId item : r.context.items) {
    out += ' ';
    out += std::to_string(item);
  }
  out += " ids:";
  for (const json& id : r.ids) {
    out += ' ';
    out += id.dump();
    out += '/';
    out += id.type_name();
  }
  out += " slots=" + (r.slots ? std::to_string(*r.slots) : std::string("-"));
  out += " baseline=" + (r.baseline ? r.baseline->dump() + "/" + r.baseline->type_name() : "-");
  out += " session='" + r.session + "' step=" + std::to_string(r.step);
  out += r.deferred ? " deferred" : "";
  out += r.skip_learning ? " skip" : "";
  return out;
}

std::vector<FeatureSchema> agreement_schemas() {
  return {schema_2_1(), FeatureSchema::from_names({"b", "a", "c"}, {"w", "v"}, 0, 0),
          FeatureSchema::from_names({}, {}, 0, 0)};
}

}  // namespace

TEST_CASE("the one-pass request parser agrees with the tree parser on valid and invalid requests",
          "[feedback]") {
  const std::string base =
      R"({"eventId": "e-1", "contextFeatures": [{"a": 0.25}, {"b": true}],
          "actions": [{"id": "x", "features": {"w": 1}}, {"id": 9, "features": [{"w": -2.5e-3}]},
                      {"features": {"w": 0}, "id": "00017"}],
          "slots": 2, "baselineAction": 9, "sessionId": "s-1", "step": 4,
          "deferActivation": true, "skipLearning": false})";
  const std::string plain = R"({"actions":[{"id":1,"features":{"w":1}}],"contextFeatures":{"a":1,"b":2}})";
  auto with_context = [](const std::string& features) {
    return R"({"contextFeatures": )" + features + R"(, "actions": [{"id": 1, "features": {"w": 1}}]})";
  };
  auto with_id = [](const std::string& id) {
    return R"({"contextFeatures": {"a": 1, "b": 2}, "actions": [{"id": )" + id +
           R"(, "features": {"w": 1}}, {"id": "y", "features": {"w": 2}}]})";
  };
  auto with_field = [](const std::string& field) {
    return R"({"contextFeatures": {"a": 1, "b": 2}, "actions": [{"id": 1, "features": {"w": 1}}, )"
           R"({"id": 2, "features": {"w": 2}}], )" + field + "}";
  };
  std::vector<std::string> corpus{base, plain, "", " ", "{}", "[]", "null", "{\"actions\": {}}",
                                  "{\"actions\": [1]}", "{\"actions\": [{}]}", plain + " ",
                                  plain + " x", plain + "{}", "\xEF\xBB\xBF" + plain, " \t\r\n" + plain,
                                  "\f" + plain};
  for (const char* number :
       {"-0", "-0.0", "0", "1E5", "1e+2", "1e-400", "1e400", "12345678901234567890123",
        "18446744073709551615", "18446744073709551616", "-9223372036854775808",
        "-9223372036854775809", "0.1", "1.7976931348623157e308", "2.2250738585072014e-308",
        "4.9e-324", "01", "1.", ".5", "+1", "-", "1e", "0x10", "true", "false", "null", "\"1\"",
        "[1]", "{}", "NaN", "Infinity", "1.0000000000000000000000000001"}) {
    corpus.push_back(with_context(std::string(R"({"a": )") + number + R"(, "b": 2})"));
  }
  for (const char* features :
       {R"([])", R"({})", R"([{}])", R"([1])", R"("x")", R"(null)", R"({"a": 1, "a": 2, "b": 3})",
        R"([{"a": 1}, {"a": 2, "b": 3}])", R"({"\u0061": 1, "b": 2})", R"({"a": 1, "b": 2, "c": 3})",
        R"([{"b": 1}, {"a": 2}])", R"({"c": 5})", R"({"é": 1, "b": 2})", R"({"a":1,"b":2,})",
        R"({"a" 1, "b": 2})", R"({"a": 1 "b": 2})"}) {
    corpus.push_back(with_context(features));
  }
  for (const char* id :
       {R"("00123")", R"("18446744073709551616")", "18446744073709551615", "18446744073709551616",
        "1.0", "-0", "-3", R"("")", R"("a\"b")", R"("\u00e9")", "\"\xC3\xA9\"", "\"\xC3\"",
        R"("x\u0000")", "\"x\x01\"", "true", "null", "[1]", R"("y")", R"("\/")"}) {
    corpus.push_back(with_id(id));
  }
  for (const std::string& field : std::vector<std::string>{
           R"("baselineAction": 2)", R"("baselineAction": 2.0)", R"("baselineAction": "2")",
        R"("baselineAction": 3)", R"("slots": 0)", R"("slots": 1)", R"("slots": 2)", R"("slots": 3)",
        R"("slots": 1.0)", R"("slots": -1)", R"("slots": true)", R"("sessionId": "a\u007fb")",
        "\"sessionId\": \"a\x7F" "b\"", R"("sessionId": "a\nb")", R"("sessionId": "s", "step": 0)",
        R"("sessionId": "s", "step": 4294967295)", R"("sessionId": "s", "step": 4294967296)",
        R"("step": 1, "sessionId": "s")", R"("step": 1)", R"("eventId": "e\"1")",
        "\"eventId\": \"" + std::string(200, 'e') + "\"", "\"eventId\": \"" + std::string(201, 'e') + "\"",
        R"("eventId": "")", R"("eventId": 5)", R"("deferActivation": false)",
        R"("skipLearning": true)", R"("skipLearning": 1)", R"("actions": [])", R"("other": 1)",
        R"("slots": 1, "slots": 2)", R"("baselineAction": 1, "slots": 2, "eventId": "z")"}) {
    corpus.push_back(with_field(field));
  }
  corpus.push_back(R"({"contextFeatures": {"a": 1, "b": 2}, "actions": [{"id": 1, "id": 2, "features": {"w": 1}}]})");
  corpus.push_back(R"({"contextFeatures": {"a": 1, "b": 2}, "actions": [{"id": 1, "features": {"w": 1}, "x": 0}]})");
  corpus.push_back(R"({"contextFeatures": {"a": 1, "b": 2}, "actions": [{"id": 1}]})");
  corpus.push_back(R"({"actions": [{"id": 1, "features": {"w": 1}}]})");
  // Every truncation of the valid requests, and every byte of them replaced by
  // (or with) a character that matters to the grammar, or deleted.
  for (const std::string& valid : {base, plain}) {
    for (std::size_t n = 0; n < valid.size(); ++n) {
      corpus.push_back(valid.substr(0, n));
      std::string deleted = valid;
      deleted.erase(n, 1);
      corpus.push_back(deleted);
      for (const char c : std::string("\"{}[],:0-.e\\ xt\x7F")) {
        std::string changed = valid;
        changed[n] = c;
        corpus.push_back(changed);
        std::string inserted = valid;
        inserted.insert(n, 1, c);
        corpus.push_back(inserted);
      }
    }
  }
  std::size_t accepted = 0;
  for (const FeatureSchema& schema : agreement_schemas()) {
    for (const std::string& body : corpus) {
      INFO(body);
      const std::string expected = outcome(body, schema, /*tree=*/true);
      REQUIRE(outcome(body, schema, /*tree=*/false) == expected);
      accepted += expected.rfind("error: ", 0) != 0;
    }
  }
  // The corpus exercises both outcomes, not only refusals.
  CHECK(accepted > 100);
}

TEST_CASE("doubles in replies are laid out as nlohmann::json lays them out", "[feedback]") {
  std::vector<double> values{0.0,    -0.0,   1.0,     -1.0,    0.5,    0.1,   1.0 / 3.0, 2.0 / 3.0,
                             100.0,  1e15,   1e16,    1.5e16,  123456789012345.6,     1e-4,
                             1.5e-4, 1e-5,   1.25e-5, 1e-100,  1e300,  -2.5e-7, 5e-324,
                             2.2250738585072014e-308, 1.7976931348623157e308, 0.775, 0.075};
  // These are written digit for digit as nlohmann::json writes them.
  for (const double value : values) {
    std::string written;
    append_json_double(written, value);
    CHECK(written == json(value).dump());
  }
  Rng rng(20261204);
  for (int i = 0; i < 2000; ++i) {
    // Random bit patterns cover every exponent; probabilities cover [0, 1].
    const double u = uniform01(rng);
    values.push_back(u);
    values.push_back(std::ldexp(u, static_cast<int>(uniform_index(rng, 2000)) - 1000));
  }
  for (const double value : values) {
    std::string written;
    append_json_double(written, value);
    INFO(value << " written as " << written);
    const json read = json::parse(written);
    REQUIRE(read.is_number_float());
    CHECK(std::bit_cast<std::uint64_t>(read.get<double>()) == std::bit_cast<std::uint64_t>(value));
    // nlohmann's Grisu2 digits are not always the shortest (about 1 in 1000
    // here differs in its last digits); the layout is always the same, and
    // ours is never longer.
    const std::string theirs = json(value).dump();
    CHECK((written.find('e') == std::string::npos) == (theirs.find('e') == std::string::npos));
    CHECK(written.find('.') == theirs.find('.'));
    CHECK(written.size() <= theirs.size());
  }
  std::string written;
  append_json_double(written, std::numeric_limits<double>::infinity());
  CHECK(written == "null");
}

TEST_CASE("replies are the JSON text nlohmann::json would write for them, escapes included",
          "[feedback]") {
  const auto policy = trained_policy();
  ConfigSection section("plackett_luce");
  std::shared_ptr<const Ranker> ranker = make_ranker("plackett_luce", section, policy);
  zmq::context_t zmq;
  DecisionServer server(zmq, apprentice_options(true), schema_2_1(),
                        {.policy = policy, .ranker = ranker, .version = 12});
  std::vector<json> requests;
  for (int i = 0; i < 20; ++i) {
    json request = request_for(i / 20.0, "r\"\\\n\x01 é-" + std::to_string(i));
    request["actions"][1]["id"] = "quote\" back\\ tab\t ctl\x1f é";
    if (i % 4 == 1) request["slots"] = 1 + i % 4;
    if (i % 4 == 2) request["baselineAction"] = 3;
    if (i % 4 == 3) {
      request["baselineAction"] = "quote\" back\\ tab\t ctl\x1f é";
      request["slots"] = 2;
    }
    if (i % 5 == 0) request.erase("eventId");
    requests.push_back(request);
  }
  for (const json& request : requests) {
    std::vector<LoggedDecision> logged;
    const std::string reply = server.answer(request.dump(), logged);
    INFO(request.dump() << " -> " << reply);
    const json parsed = json::parse(reply);
    REQUIRE_FALSE(parsed.contains("error"));
    CHECK(parsed.dump() == reply);  // same keys, order, escapes and number layout
    if (request.contains("eventId")) CHECK(parsed.at("eventId") == request["eventId"]);
    const bool ids_seen = std::any_of(parsed["ranking"].begin(), parsed["ranking"].end(),
                                      [&](const json& e) { return e["id"] == request["actions"][1]["id"]; });
    if (!request.contains("slots")) CHECK(ids_seen);
  }
}

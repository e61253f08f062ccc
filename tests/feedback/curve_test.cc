// SPDX-License-Identifier: Apache-2.0
#include "feedback/curve.h"

#include "core/config.h"
#include "core/error.h"
#include "feedback/client.h"
#include "feedback/collector.h"
#include "feedback/decision_server.h"
#include "feedback/model_stream.h"
#include "policies/registry.h"
#include "tests/logging/fixtures.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

using namespace recloop;
using recloop::testing::sample_reward;
using recloop::testing::TempDir;

namespace {

// Long enough for a handshake and an ack on loopback; only reached when broken.
constexpr int kAckTimeoutMs = 5000;
// How long a refused client is watched: several reconnect attempts (100 ms apart).
constexpr int kRefusedWaitMs = 400;

struct Parties {
  KeyPair server = generate_key_pair();
  KeyPair alice = generate_key_pair();    // listed
  KeyPair mallory = generate_key_pair();  // not listed

  ServerKeys server_keys() const {
    return {server.public_key, server.secret_key, {{alice.public_key, "alice"}}};
  }
  ClientKeys client_keys(const KeyPair& own) const {
    return {own.public_key, own.secret_key, server.public_key};
  }
};

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string config_error(const std::function<void()>& load) {
  try {
    load();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no ConfigError)";
}

// A Collector serving on its own thread until destroyed.
class RunningCollector {
 public:
  RunningCollector(zmq::context_t& zmq, CollectorOptions options)
      : collector_(zmq, std::move(options)), thread_([this] { collector_.run(stop_); }) {}
  ~RunningCollector() {
    stop_ = true;
    thread_.join();
  }
  const Collector& collector() const { return collector_; }

 private:
  std::atomic<bool> stop_{false};
  Collector collector_;
  std::thread thread_;
};

CollectorOptions keyed_collector(const std::string& log_path, const ServerKeys& keys) {
  CollectorOptions options;
  options.endpoint = "tcp://127.0.0.1:*";  // CURVE needs a network transport, not inproc
  options.log_path = log_path;
  options.curve = keys;
  return options;
}

}  // namespace

TEST_CASE("key files written by keygen load back, the secret one readable by its owner only",
          "[feedback]") {
  TempDir dir;
  const std::string stem = dir.file("server");
  const KeyPair keys = generate_key_pair();
  write_key_files(stem, keys, /*overwrite=*/false);

  struct stat info {};
  REQUIRE(::stat((stem + ".key").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  const KeyPair loaded = load_key_pair(stem + ".key");
  CHECK(loaded.public_key == keys.public_key);
  CHECK(loaded.secret_key == keys.secret_key);
  CHECK(load_public_key(stem + ".pub") == keys.public_key);
  CHECK(read_text(stem + ".pub").find(keys.secret_key) == std::string::npos);

  CHECK_THROWS_AS(write_key_files(stem, generate_key_pair(), false), ConfigError);
  CHECK(load_key_pair(stem + ".key").secret_key == keys.secret_key);  // untouched
  const KeyPair fresh = generate_key_pair();
  write_key_files(stem, fresh, /*overwrite=*/true);
  CHECK(load_key_pair(stem + ".key").public_key == fresh.public_key);
}

TEST_CASE("a key file readable by others, or whose keys do not match, is refused", "[feedback]") {
  TempDir dir;
  const std::string stem = dir.file("server");
  const KeyPair keys = generate_key_pair();
  write_key_files(stem, keys, false);
  ::chmod((stem + ".key").c_str(), 0644);
  CHECK_THAT(config_error([&] { load_key_pair(stem + ".key"); }),
             Catch::Contains(stem + ".key") && Catch::Contains("chmod 600"));

  const std::string mixed = dir.file("mixed.key");
  write_text(mixed, "public-key = " + generate_key_pair().public_key +
                        "\nsecret-key = " + keys.secret_key + "\n");
  ::chmod(mixed.c_str(), 0600);
  CHECK_THAT(config_error([&] { load_key_pair(mixed); }),
             Catch::Contains("does not belong to secret-key"));
  CHECK_THAT(config_error([&] { load_key_pair(stem + ".pub"); }), Catch::Contains(stem + ".pub"));
}

TEST_CASE("an authorized-keys file is read with names and comments; a bad line is named by file:line",
          "[feedback]") {
  TempDir dir;
  const std::string path = dir.file("authorized");
  const KeyPair a = generate_key_pair(), b = generate_key_pair();
  write_text(path, "# clients\n\n" + a.public_key + "  web frontend\n" + b.public_key + "\n");
  const auto keys = load_authorized_keys(path);
  REQUIRE(keys.size() == 2);
  CHECK(keys[0].public_key == a.public_key);
  CHECK(keys[0].name == "web frontend");
  CHECK(keys[1].public_key == b.public_key);
  CHECK(keys[1].name.empty());

  write_text(path, "# clients\n" + a.public_key + " ok\nnot-a-key name\n");
  CHECK_THAT(config_error([&] { load_authorized_keys(path); }),
             Catch::Contains(path + ":3") && Catch::Contains("not-a-key"));
  write_text(path, a.public_key + "\n" + a.public_key + "\n");
  CHECK_THAT(config_error([&] { load_authorized_keys(path); }),
             Catch::Contains(path + ":2") && Catch::Contains("line 1"));
  write_text(path, "# nobody\n");
  CHECK_THAT(config_error([&] { load_authorized_keys(path); }), Catch::Contains("lists no key"));
}

TEST_CASE("server keys on a context without a CurveAuthenticator are refused", "[feedback]") {
  TempDir dir;
  const Parties parties;
  zmq::context_t zmq;
  CHECK_THROWS_AS(Collector(zmq, keyed_collector(dir.file("log.db"), parties.server_keys())),
                  Error);
}

TEST_CASE("a collector with keys acknowledges a listed client; an unlisted one gets nothing and is logged",
          "[feedback][integration]") {
  TempDir dir;
  const Parties parties;
  std::ostringstream log;
  std::uint64_t rejected = 0, accepted = 0;
  std::string endpoint;
  {
    zmq::context_t zmq;
    CurveAuthenticator authenticator(zmq, parties.server_keys().authorized,
                                     Logger(log, LogLevel::info, "collector"));
    RunningCollector running(zmq, keyed_collector(dir.file("log.db"), parties.server_keys()));
    endpoint = running.collector().endpoint();

    FeedbackClient alice(zmq, endpoint, {.resend_timeout_ms = 100, .curve = parties.client_keys(parties.alice)});
    alice.send(sample_reward("from-alice"));
    CHECK(alice.flush(kAckTimeoutMs));

    FeedbackClient mallory(zmq, endpoint,
                           {.resend_timeout_ms = 100, .curve = parties.client_keys(parties.mallory)});
    mallory.send(sample_reward("from-mallory"));
    CHECK_FALSE(mallory.flush(kRefusedWaitMs));

    // A client without keys cannot even speak to a CURVE server.
    FeedbackClient plain(zmq, endpoint, {.resend_timeout_ms = 100});
    plain.send(sample_reward("from-plain"));
    CHECK_FALSE(plain.flush(kRefusedWaitMs));

    rejected = authenticator.rejected_clients();
    accepted = authenticator.accepted_clients();
    CHECK(running.collector().stats().rewards == 1);
  }
  CHECK(accepted >= 1);
  CHECK(rejected >= 1);
  const std::string lines = log.str();
  CHECK_THAT(lines, Catch::Contains("rejected client") && Catch::Contains(parties.mallory.public_key) &&
                        Catch::Contains("domain=collector") && Catch::Contains("peer=127.0.0.1"));
  CHECK_THAT(lines, !Catch::Contains(parties.alice.public_key));
}

TEST_CASE("a client expecting another server key gets no acknowledgement", "[feedback][integration]") {
  TempDir dir;
  const Parties parties;
  zmq::context_t zmq;
  CurveAuthenticator authenticator(zmq, parties.server_keys().authorized, Logger());
  RunningCollector running(zmq, keyed_collector(dir.file("log.db"), parties.server_keys()));
  ClientKeys wrong = parties.client_keys(parties.alice);
  wrong.server_public = parties.mallory.public_key;
  FeedbackClient alice(zmq, running.collector().endpoint(), {.resend_timeout_ms = 100, .curve = wrong});
  alice.send(sample_reward("misdirected"));
  CHECK_FALSE(alice.flush(kRefusedWaitMs));
  CHECK(authenticator.accepted_clients() == 0);
  CHECK(running.collector().stats().rewards == 0);
}

TEST_CASE("a decision server with keys answers a listed application; an unlisted one gets no reply",
          "[feedback][integration]") {
  const Parties parties;
  ConfigSection section("epsilon_greedy");
  PolicySnapshot first;
  first.policy = make_policy("epsilon_greedy", section, 2);
  DecisionServerOptions options;
  options.endpoint = "tcp://127.0.0.1:*";
  options.curve = parties.server_keys();
  zmq::context_t zmq;
  std::ostringstream log;
  std::uint64_t rejected = 0;
  {
    CurveAuthenticator authenticator(zmq, parties.server_keys().authorized,
                                     Logger(log, LogLevel::info, "serve"));
    DecisionServer server(zmq, options, FeatureSchema::from_names({}, {}, 1, 1), first);
    std::atomic<bool> stop{false};
    std::thread serving([&] { server.run(stop); });

    const nlohmann::json request = {
        {"eventId", "e-1"},
        {"contextFeatures", {{"a", 0.5}}},
        {"actions", {{{"id", 1}, {"features", {{"w", 1}}}}, {{"id", 2}, {"features", {{"w", 0}}}}}}};
    // The reply to `request` from a REQ socket with `keys`, or "" after `wait_ms`.
    auto ask = [&](const KeyPair& own, int wait_ms) {
      zmq::socket_t socket(zmq, zmq::socket_type::req);
      socket.set(zmq::sockopt::linger, 0);
      apply_client_keys(socket, parties.client_keys(own));
      socket.connect(server.endpoint());
      socket.send(zmq::buffer(request.dump()), zmq::send_flags::none);
      zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, std::chrono::milliseconds(wait_ms)) <= 0) return std::string();
      zmq::message_t reply;
      return socket.recv(reply) ? reply.to_string() : std::string();
    };
    const std::string answered = ask(parties.alice, kAckTimeoutMs);
    CHECK_THAT(answered, Catch::Contains("\"eventId\":\"e-1\"") && Catch::Contains("ranking"));
    CHECK(ask(parties.mallory, kRefusedWaitMs).empty());
    rejected = authenticator.rejected_clients();
    stop = true;
    serving.join();
    CHECK(server.stats().requests == 1);
  }
  CHECK(rejected >= 1);
  CHECK_THAT(log.str(), Catch::Contains(parties.mallory.public_key) &&
                            Catch::Contains("domain=decision-server"));
}

TEST_CASE("with keys everywhere, a served decision is logged, joined to its reward and pushed to the learner",
          "[feedback][integration]") {
  TempDir dir;
  const Parties parties;  // server = the collector; alice = the decision server, app and learner
  zmq::context_t zmq;
  CurveAuthenticator authenticator(zmq, parties.server_keys().authorized, Logger());
  CollectorOptions collector_options = keyed_collector(dir.file("log.db"), parties.server_keys());
  collector_options.learner_endpoint = "tcp://127.0.0.1:*";
  RunningCollector running(zmq, collector_options);
  const ClientKeys alice = parties.client_keys(parties.alice);
  InteractionStream learner(zmq, running.collector().learner_endpoint(), alice);

  ConfigSection section("epsilon_greedy");
  PolicySnapshot first;
  first.policy = make_policy("epsilon_greedy", section, 2);
  DecisionServerOptions options;
  options.endpoint = "tcp://127.0.0.1:*";  // the frontend without keys: loopback
  options.collector_endpoint = running.collector().endpoint();
  options.collector_curve = alice;
  options.resend_timeout_ms = 100;
  DecisionServer server(zmq, options, FeatureSchema::from_names({}, {}, 1, 1), first);
  std::atomic<bool> stop{false};
  std::thread serving([&] { server.run(stop); });
  {
    zmq::socket_t app(zmq, zmq::socket_type::req);
    app.set(zmq::sockopt::linger, 0);
    app.connect(server.endpoint());
    const nlohmann::json request = {
        {"eventId", "e-1"},
        {"contextFeatures", {{"a", 0.5}}},
        {"actions", {{{"id", 1}, {"features", {{"w", 1}}}}, {{"id", 2}, {"features", {{"w", 0}}}}}}};
    app.send(zmq::buffer(request.dump()), zmq::send_flags::none);
    zmq::message_t reply;
    zmq::pollitem_t item{app.handle(), 0, ZMQ_POLLIN, 0};
    REQUIRE(zmq::poll(&item, 1, std::chrono::milliseconds(kAckTimeoutMs)) == 1);
    REQUIRE(app.recv(reply));
  }
  FeedbackClient rewards(zmq, running.collector().endpoint(), {.resend_timeout_ms = 100, .curve = alice});
  rewards.send(sample_reward("e-1", 1.0));
  CHECK(rewards.flush(kAckTimeoutMs));
  const auto joined = learner.receive(kAckTimeoutMs);
  REQUIRE(joined);
  CHECK(joined->reward == 1.0);
  stop = true;
  serving.join();
  CHECK(server.stats().unacknowledged == 0);
  CHECK(running.collector().stats().decisions == 1);
  CHECK(authenticator.rejected_clients() == 0);
}

TEST_CASE("a model stream with keys reaches a listed server and not an unlisted one",
          "[feedback][integration]") {
  const Parties parties;
  ConfigSection section("epsilon_greedy");
  const auto policy = make_policy("epsilon_greedy", section, 2);
  zmq::context_t zmq;
  CurveAuthenticator authenticator(zmq, parties.server_keys().authorized, Logger());
  ModelPublisher publisher(zmq, "tcp://127.0.0.1:*", parties.server_keys());
  ModelSubscriber listed(zmq, publisher.endpoint(), parties.client_keys(parties.alice));
  ModelSubscriber unlisted(zmq, publisher.endpoint(), parties.client_keys(parties.mallory));
  publisher.publish(*policy, 3);
  // PUB drops what is sent before a subscription is in place: repeat, as a learner does.
  std::optional<ModelSnapshot> received;
  for (int attempt = 0; attempt < 100 && !received; ++attempt) {
    received = listed.receive(50);
    if (!received) publisher.republish();
  }
  REQUIRE(received);
  CHECK(received->version == 3);
  publisher.republish();
  CHECK_FALSE(unlisted.receive(kRefusedWaitMs));
  CHECK(authenticator.rejected_clients() >= 1);
}

TEST_CASE("without keys only loopback endpoints are bound unless insecure is asked for", "[feedback]") {
  CHECK(is_loopback_endpoint("tcp://127.0.0.1:5555"));
  CHECK(is_loopback_endpoint("ipc:///tmp/x"));
  CHECK_FALSE(is_loopback_endpoint("tcp://0.0.0.0:5555"));
  CHECK_FALSE(is_loopback_endpoint("tcp://*:5555"));
  CHECK_THAT(config_error([] { server_keys_from_flags("", "", {{"--bind", "tcp://*:5555"}}, false); }),
             Catch::Contains("--bind tcp://*:5555") && Catch::Contains("--insecure"));
  CHECK_FALSE(server_keys_from_flags("", "", {{"--bind", "tcp://*:5555"}}, true).has_value());
  CHECK_THAT(config_error([] { server_keys_from_flags("a.key", "", {}, false); }),
             Catch::Contains("--curve-authorized"));
  CHECK_THAT(config_error([] { client_keys_from_flags("", "server.pub", "--collector-server-key"); }),
             Catch::Contains("--curve-key"));
}

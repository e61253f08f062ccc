// SPDX-License-Identifier: Apache-2.0
// Reliability of the real `recloop collect` process: SIGKILLed at seeded random
// moments during a long stream it loses no acknowledged event, stores none
// twice and joins every reward to its decision; and it survives hostile input
// (garbage, unknown versions, oversized messages, non-finite numbers, rewards
// for unknown events) by counting and dropping it.
#include "core/rng.h"
#include "core/sampling.h"
#include "feedback/client.h"
#include "feedback/wire.h"
#include "logging/event_log.h"
#include "tests/logging/fixtures.h"
#include "tests/support/live_fixtures.h"
#include "tests/support/process.h"

#include <catch2/catch.hpp>
#include <sqlite3.h>
#include <zmq.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace recloop;
using recloop::testing::sample_decision;
using recloop::testing::TempDir;
using recloop::testing::loopback_endpoint;
using recloop::testing::read_file;

namespace {

// Generous: only reached when something is broken.
constexpr int kFlushTimeoutMs = 30000;

// A private directory with the log and output paths of one collector process,
// and a loopback endpoint for it to bind.
struct CollectorFiles {
  TempDir dir;
  std::string log_path = dir.file("events.db");
  std::string output = dir.file("collector.out");
  std::string endpoint = loopback_endpoint();
};

class CollectorProcess : public recloop::testing::RecloopProcess {
 public:
  CollectorProcess(const std::string& log_path, const std::string& endpoint,
                   const std::string& output_path)
      : RecloopProcess({"collect", "--log", log_path, "--bind", endpoint}, output_path) {}
};

// Rows and distinct event ids of one table, read with plain SQL so that a
// duplicate would show even if the schema's uniqueness constraints changed.
struct RowCounts {
  std::int64_t rows = -1;
  std::int64_t distinct_ids = -1;
};

RowCounts count_rows(const std::string& log_path, const std::string& table) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(log_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  const std::string sql = "SELECT COUNT(*), COUNT(DISTINCT event_id) FROM " + table;
  sqlite3_stmt* statement = nullptr;
  RowCounts counts;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK &&
      sqlite3_step(statement) == SQLITE_ROW) {
    counts.rows = sqlite3_column_int64(statement, 0);
    counts.distinct_ids = sqlite3_column_int64(statement, 1);
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return counts;
}

// Event i of the soak stream: a decision whose every field depends on i, and a
// reward whose value is distinct for every i (an exact binary fraction, so an
// equality check is exact after the text round trip of the wire).
constexpr int kSoakDecisions = 50'000;
std::string soak_id(int i) { return "soak-" + std::to_string(i); }
LoggedDecision soak_decision(int i) { return sample_decision(soak_id(i), "uniform", 4, i + 1); }
Reward soak_reward(int i) {
  return Reward{soak_id(i), 0.5 + static_cast<double>(i) / 131072.0, 1'700'000'000'000'000 + i};
}

// Sends one multipart message from a raw socket.
void send_parts(zmq::socket_t& socket, const std::vector<std::string>& parts) {
  for (std::size_t i = 0; i < parts.size(); ++i) {
    socket.send(zmq::buffer(parts[i]),
                i + 1 < parts.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
}

}  // namespace

TEST_CASE("a collector SIGKILLed ten times during 100k events keeps every acknowledged event "
          "once, correctly joined",
          "[feedback][integration][reliability]") {
  const CollectorFiles files;
  zmq::context_t zmq;
  // A bounded window of unacknowledged events: send() waits for acks beyond it,
  // so a dead collector stalls the stream instead of growing the client.
  constexpr std::size_t kWindow = 8192;
  FeedbackClient client(zmq, files.endpoint,
                        {.resend_timeout_ms = 300, .max_unacknowledged = kWindow});
  // send() would wait for acks indefinitely with a full window; waiting here
  // instead turns a collector that never acknowledges into a failure, not a hang.
  auto send = [&](const auto& event) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(kFlushTimeoutMs);
    while (client.unacknowledged() >= kWindow) {
      client.poll(100);
      if (std::chrono::steady_clock::now() > give_up) {
        INFO(read_file(files.output));
        FAIL("no ack for " << kFlushTimeoutMs << " ms with " << kWindow << " events pending");
      }
    }
    client.send(event);
  };

  // Ten kill points (decision indices) and the time each collector is given
  // after its kill point before the SIGKILL, from a fixed seed.
  Rng rng(20261204);
  constexpr int kKills = 10;
  std::vector<int> kill_at;
  while (kill_at.size() < kKills) {
    const int at = 1000 + static_cast<int>(uniform_index(rng, kSoakDecisions - 2000));
    if (std::find(kill_at.begin(), kill_at.end(), at) == kill_at.end()) kill_at.push_back(at);
  }
  std::sort(kill_at.begin(), kill_at.end());

  std::size_t sent = 0;
  auto collector =
      std::make_unique<CollectorProcess>(files.log_path, files.endpoint, files.output);
  std::size_t next_kill = 0;
  for (int i = 0; i < kSoakDecisions; ++i) {
    send(soak_decision(i));
    ++sent;
    // A quarter of the rewards overtake their decisions: the one for i + 1 is
    // sent now, and i + 1 then sends none of its own.
    // (kSoakDecisions is a multiple of 4, so i + 1 always exists.)
    if (i % 4 == 0) send(soak_reward(i + 1));
    if (i % 4 != 1) send(soak_reward(i));
    sent += (i % 4 == 0) + (i % 4 != 1);
    if (i % 256 == 0) client.poll(0);

    if (next_kill < kill_at.size() && i == kill_at[next_kill]) {
      // Let the collector run 0..40 ms, then kill it without warning: anywhere
      // in receive, write, commit or ack.
      const int work_ms = static_cast<int>(uniform_index(rng, 41));
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(work_ms);
      while (std::chrono::steady_clock::now() < until) client.poll(1);
      const std::size_t acknowledged = sent - client.unacknowledged();
      collector->stop(SIGKILL);
      collector.reset();
      {
        EventLog log(files.log_path);
        INFO("kill " << next_kill << " at decision " << i << ": " << acknowledged << " of "
                     << sent << " acknowledged");
        REQUIRE(log.decision_count() + log.reward_count() >= acknowledged);
      }
      collector = std::make_unique<CollectorProcess>(files.log_path, files.endpoint, files.output);
      ++next_kill;
    }
  }
  REQUIRE(next_kill == kill_at.size());
  REQUIRE(sent == 2 * static_cast<std::size_t>(kSoakDecisions));
  // The client resumes by itself: no reconnect or re-send is asked for here.
  REQUIRE(client.flush(kFlushTimeoutMs));
  const int status = collector->stop(SIGTERM);
  INFO(read_file(files.output));
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);

  // An acknowledged event is forgotten by the client, so one lost in a crash
  // would be missing here; one stored twice would show as rows > distinct ids.
  const RowCounts decisions = count_rows(files.log_path, "decisions");
  const RowCounts rewards = count_rows(files.log_path, "rewards");
  CHECK(decisions.rows == kSoakDecisions);
  CHECK(decisions.distinct_ids == kSoakDecisions);
  CHECK(rewards.rows == kSoakDecisions);
  CHECK(rewards.distinct_ids == kSoakDecisions);

  EventLog log(files.log_path);
  CHECK(log.decision_count() == static_cast<std::size_t>(kSoakDecisions));
  CHECK(log.reward_count() == static_cast<std::size_t>(kSoakDecisions));
  CHECK(log.interaction_count() == static_cast<std::size_t>(kSoakDecisions));
  std::set<int> seen;
  std::size_t wrong = 0;
  log.for_each([&](const Interaction& interaction) {
    const int i = std::stoi(interaction.event_id.substr(5));
    const LoggedDecision expected = soak_decision(i);
    const bool ok = interaction.reward == soak_reward(i).value &&
                    interaction.action == expected.decision.action &&
                    interaction.probability == expected.decision.probability &&
                    interaction.context.items == expected.context.items &&
                    interaction.context.user == expected.context.user;
    wrong += !ok;
    seen.insert(i);
  });
  CHECK(wrong == 0);
  CHECK(seen.size() == static_cast<std::size_t>(kSoakDecisions));
  CHECK(*seen.begin() == 0);
  CHECK(*seen.rbegin() == kSoakDecisions - 1);
}

TEST_CASE("a collector process counts and drops garbage, unknown versions and oversized "
          "messages, and goes on serving",
          "[feedback][integration][reliability]") {
  const CollectorFiles files;
  zmq::context_t zmq;
  CollectorProcess collector(files.log_path, files.endpoint, files.output);

  // A good event first: its ack proves the collector is up.
  FeedbackClient client(zmq, files.endpoint, {.resend_timeout_ms = 200});
  client.send(sample_decision("good-1"));
  client.send(Reward{"good-1", 1.0, 5});
  REQUIRE(client.flush(kFlushTimeoutMs));

  zmq::socket_t dealer(zmq, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.connect(files.endpoint);
  Rng rng(77);
  std::vector<std::vector<std::string>> bad = {
      {"hello"},                                   // one part: no body
      {"dec9", "e-future", "payload"},             // a protocol version nobody speaks
      {"rew2", "e-future", "1", "5"},              // likewise for rewards
      {"ack1", "dec", "e-backwards"},              // an ack sent the wrong way
      {"rew1", "e-nan", "nan", "5"},               // non-finite reward
      {"rew1", "e-inf", "inf", "5"},
      {"rew1", "e-bad-time", "1", "soon"},         // timestamp not an integer
      {"dec3", "e-short", std::string("\x01\x00", 2)},  // truncated payload
      {"rew1", "", "1", "5"},                      // empty event id
      {"rew1", std::string(kMaxEventIdBytes + 1, 'x'), "1", "5"},  // event id too long
      {"rew1", "a", "1", "2", "3", "4", "5", "6"},  // too many parts
  };
  // Seeded random bytes behind each known tag.
  for (const std::string_view tag : {kDecisionTag, kDecisionTagV1, kRewardTag}) {
    std::string noise(200, '\0');
    for (char& c : noise) c = static_cast<char>(uniform_index(rng, 256));
    bad.push_back({std::string(tag), "e-noise", noise, noise});
  }
  // A decision whose probability breaks the contract (NaN where pmf[action] belongs).
  {
    LoggedDecision nan_decision = sample_decision("e-nan-pmf", "uniform", 4, 1);
    Frames frames = encode_decision(nan_decision);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    // Payload: str policy, u64 model_version, u32 action, u64 item, f64 probability, ...
    const std::size_t probability_at = 4 + nan_decision.decision.policy.size() + 8 + 4 + 8;
    std::memcpy(frames[2].data() + probability_at, &nan, sizeof nan);
    bad.push_back(frames);
  }
  for (const auto& parts : bad) send_parts(dealer, parts);

  // An oversized message: ZeroMQ (maxmsgsize) drops the sender's connection
  // before the collector allocates it; the collector itself never sees it.
  {
    zmq::socket_t big(zmq, zmq::socket_type::dealer);
    big.set(zmq::sockopt::linger, 0);
    big.connect(files.endpoint);
    send_parts(big, {std::string(kRewardTag), "e-huge",
                     std::string(static_cast<std::size_t>(kMaxMessageBytes) + 1, '7'), "5"});
    // Give the collector time to read the header and drop the connection.
    zmq::pollitem_t item{big.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(300));
  }

  // A reward for an event id no decision has: stored and acknowledged (rewards
  // may overtake their decisions), but joined to nothing.
  client.send(Reward{"never-decided", 1.0, 6});
  // The collector still serves: a good pair after all of it is acknowledged.
  client.send(sample_decision("good-2"));
  client.send(Reward{"good-2", 0.0, 7});
  REQUIRE(client.flush(kFlushTimeoutMs));
  // The raw dealer's bad frames were sent before the good pair on another
  // connection; wait for the collector to have read them all (no ack comes).
  zmq::pollitem_t item{dealer.handle(), 0, ZMQ_POLLIN, 0};
  CHECK(zmq::poll(&item, 1, std::chrono::milliseconds(300)) == 0);

  const int status = collector.stop(SIGTERM);
  const std::string printed = read_file(files.output);
  INFO(printed);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_THAT(printed, Catch::Contains("rejected_frames=" + std::to_string(bad.size())));
  // Each rejection is also a structured warn line (rate-limited to one a second).
  CHECK_THAT(printed, Catch::Contains("level=warn component=collector msg=\"rejected frame\""));

  EventLog log(files.log_path);
  CHECK(log.decision_count() == 2);
  CHECK(log.reward_count() == 3);
  CHECK(log.interaction_count() == 2);
  CHECK_FALSE(log.has_event("never-decided"));
}

// SPDX-License-Identifier: Apache-2.0
// End-to-end figures of the live loop over TCP loopback, printed as tables:
//
//   throughput  decisions + rewards per second sustained through a collector,
//               every event durably committed, acknowledged and joined (checked
//               in the log afterwards), for two payloads: "small" (a
//               Personalizer-like request: 8 user features, 10 candidates x 4
//               features, no truth) and "bench" (collector_bench's: 16 + 16
//               features, 10 candidates, with truth)
//   latency     rank latency p50/p99 through a decision server that forwards
//               every decision to the collector, at fixed open-loop offered rates;
//               each request timed with steady_clock from its send to its reply
//   zmq         ZeroMQ's own loopback limits: DEALER -> ROUTER small messages
//               per second, and REQ/REP round-trip latency
//   breakdown   CPU time per event of each stage on its own: encode, decode,
//               SQLite write + commit (wall and CPU), rank-request JSON parse,
//               a whole answer (parse + decide + reply JSON)
//
// By default the collector and the server run in this process on their own
// threads. With --collector ENDPOINT --log FILE the events go to a running
// `recloop collect` instead (so that it can be measured on its own, e.g. under
// `strace -c -f -p PID`), and with --server ENDPOINT the rank requests go to a
// running `recloop serve` (started with --user-dim 8 --action-dim 4).
//
//   build/bench/e2e_bench [--seconds S] [--only SECTION] [--rates R1,R2,...]
//                         [--collector ENDPOINT --log FILE] [--server ENDPOINT]
//                         [--threads N]   (workers of the in-process server, default 1)
#include "bench/bench_payloads.h"
#include "core/config.h"
#include "core/rng.h"
#include "core/sampling.h"
#include "feedback/client.h"
#include "feedback/collector.h"
#include "feedback/decision_server.h"
#include "feedback/wire.h"
#include "logging/event_log.h"
#include "policies/registry.h"

#include <nlohmann/json.hpp>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <numeric>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace recloop {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Settings {
  double seconds = 5.0;
  std::string only;
  std::vector<double> rates{1000, 5000, 10000, 20000, 50000};
  std::string collector;  // external collector endpoint; empty = in-process
  std::string log;        // its log file
  std::string server;     // external decision server endpoint; empty = in-process
  int threads = 1;        // workers of the in-process decision server
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_THREAD, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

// CPU time of the whole process (all threads), seconds.
double process_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

double quantile(std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0.0;
  const auto index = static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1));
  return sorted[index];
}

// A private temporary directory, removed at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "recloop-e2e-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A collector: in-process on its own thread, or the external one of the settings.
class CollectorUnderTest {
 public:
  CollectorUnderTest(zmq::context_t& zmq, const Settings& settings, const TempDir& dir) {
    if (!settings.collector.empty()) {
      endpoint_ = settings.collector;
      log_path_ = settings.log;
      return;
    }
    CollectorOptions options;
    options.endpoint = "tcp://127.0.0.1:*";
    options.log_path = dir.file("events.db");
    log_path_ = options.log_path;
    collector_ = std::make_unique<Collector>(zmq, options);
    endpoint_ = collector_->endpoint();
    thread_ = std::thread([this] { collector_->run(stop_); });
  }
  ~CollectorUnderTest() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  const std::string& endpoint() const { return endpoint_; }
  const std::string& log_path() const { return log_path_; }
  // Messages per committed transaction (in-process only; 0 otherwise).
  double messages_per_batch() const {
    if (!collector_) return 0.0;
    const CollectorStats s = collector_->stats();
    return static_cast<double>(s.decisions + s.rewards + s.duplicates) /
           static_cast<double>(std::max<std::uint64_t>(s.batches, 1));
  }

 private:
  std::atomic<bool> stop_{false};
  std::unique_ptr<Collector> collector_;
  std::thread thread_;
  std::string endpoint_;
  std::string log_path_;
};

std::size_t interaction_count(const std::string& log_path) {
  EventLog log(log_path);
  return log.interaction_count();
}

// (a) Decision + reward pairs through the collector, closed loop with a
// bounded window of unacknowledged events, for `seconds`; then a flush, so the
// rate counts only events committed and acknowledged.
void throughput(const Settings& settings) {
  std::printf("\n## throughput: decisions + rewards through the collector (durable, joined)\n\n");
  std::printf("| payload | decision bytes | events | seconds | events/s | msgs/txn | resends | joined ok | CPU us/event (this process) |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  for (const std::string payload : {"small", "bench"}) {
    TempDir dir;
    zmq::context_t zmq(1);
    CollectorUnderTest collector(zmq, settings, dir);
    const std::size_t joined_before =
        settings.collector.empty() ? 0 : interaction_count(collector.log_path());
    Rng rng(3);
    std::vector<LoggedDecision> decisions;
    for (int i = 0; i < 64; ++i) {
      decisions.push_back(bench::random_decision(
          rng, payload == "small" ? bench::kSmallPayload : bench::kBenchPayload));
    }
    const std::size_t bytes = encode_decision(decisions[0])[2].size();
    FeedbackClient client(zmq, collector.endpoint(),
                          {.resend_timeout_ms = 10000, .max_unacknowledged = 16384});
    const std::string run = std::to_string(::getpid()) + "-" + payload + "-";
    std::uint64_t pairs = 0;
    auto send_pair = [&] {
      LoggedDecision& logged = decisions[pairs % decisions.size()];
      logged.decision.event_id = run + std::to_string(pairs);
      client.send(logged);
      client.send(Reward{logged.decision.event_id, 1.0, logged.timestamp_us});
      ++pairs;
    };
    send_pair();  // wait for the collector
    if (!client.flush(30000)) throw std::runtime_error("collector does not acknowledge");
    const std::uint64_t first = pairs;
    const auto start = Clock::now();
    const double cpu_start = process_cpu_seconds();
    while (seconds_since(start) < settings.seconds) send_pair();
    if (!client.flush(60000)) throw std::runtime_error("collector did not acknowledge everything");
    const double elapsed = seconds_since(start);
    const double events = 2.0 * static_cast<double>(pairs - first);
    const std::size_t joined = interaction_count(collector.log_path()) - joined_before;
    const double cpu = process_cpu_seconds() - cpu_start;
    std::printf("| %s | %zu | %.0f | %.2f | %.0f | %.0f | %" PRIu64 " | %s | %.2f |\n", payload.c_str(),
                bytes, events, elapsed, events / elapsed, collector.messages_per_batch(),
                client.resends(), joined == pairs ? "yes" : "NO", 1e6 * cpu / events);
    std::fflush(stdout);
  }
}

// The Personalizer-like request of the latency section: 8 user features, 10
// candidates with 4 features each; "eventId" is filled in per request.
std::string rank_request_template(Rng& rng) {
  json user = json::object();
  for (int j = 0; j < 8; ++j) user["u" + std::to_string(j)] = standard_normal(rng);
  json actions = json::array();
  for (int a = 0; a < 10; ++a) {
    json features = json::object();
    for (int j = 0; j < 4; ++j) features["f" + std::to_string(j)] = standard_normal(rng);
    actions.push_back({{"id", "item-" + std::to_string(a)}, {"features", features}});
  }
  return json{{"contextFeatures", user}, {"actions", actions}}.dump();
}

std::string with_event_id(const std::string& request, const std::string& event_id) {
  // The template is an object: insert "eventId" as its first member.
  return "{\"eventId\":\"" + event_id + "\"," + request.substr(1);
}

std::shared_ptr<const Policy> bench_policy() {
  ConfigSection section("epsilon_greedy");
  section.set("epsilon", "0.1");
  return std::shared_ptr<const Policy>(make_policy("epsilon_greedy", section, 12));
}

// A decision server: in-process on its own thread, or the external one.
class ServerUnderTest {
 public:
  ServerUnderTest(zmq::context_t& zmq, const Settings& settings,
                  const std::string& collector_endpoint) {
    if (!settings.server.empty()) {
      endpoint_ = settings.server;
      return;
    }
    DecisionServerOptions options;
    options.endpoint = "tcp://127.0.0.1:*";
    options.collector_endpoint = collector_endpoint;
    options.threads = settings.threads;
    options.resend_timeout_ms = 10000;
    PolicySnapshot first{bench_policy(), nullptr, 0};
    server_ = std::make_unique<DecisionServer>(zmq, options, FeatureSchema{{}, {}, 8, 4}, first);
    endpoint_ = server_->endpoint();
    thread_ = std::thread([this] { server_->run(stop_); });
  }
  // Stops the in-process server (flushing its clients); its forwarded count.
  std::uint64_t finish() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return server_ ? server_->stats().forwarded - server_->stats().unacknowledged : 0;
  }
  ~ServerUnderTest() { finish(); }
  const std::string& endpoint() const { return endpoint_; }

 private:
  std::atomic<bool> stop_{false};
  std::unique_ptr<DecisionServer> server_;
  std::thread thread_;
  std::string endpoint_;
};

// The event id a reply carries, found without parsing the whole reply.
std::optional<std::uint64_t> reply_index(std::string_view reply, std::string_view prefix) {
  const std::string key = "\"eventId\":\"" + std::string(prefix);
  const auto at = reply.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  std::uint64_t index = 0;
  for (std::size_t i = at + key.size(); i < reply.size() && reply[i] >= '0' && reply[i] <= '9'; ++i) {
    index = index * 10 + static_cast<std::uint64_t>(reply[i] - '0');
  }
  return index;
}

// (b) Open-loop rank requests at each offered rate for `seconds`: request k is
// due at start + k / rate and sent then (or as soon after as this thread gets
// to it: that lag is reported); its latency is from its send to its reply.
void latency(const Settings& settings) {
  std::printf("\n## latency: rank requests through the decision server, decisions logged\n\n");
  std::printf("| offered/s | achieved/s | answered | lost | p50 us | p90 us | p99 us | p99.9 us | max us | send lag p99 us |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  ::prctl(PR_SET_TIMERSLACK, 1UL);  // so the short sleeps between sends are short
  TempDir dir;
  zmq::context_t zmq(1);
  CollectorUnderTest collector(zmq, settings, dir);
  const std::size_t logged_before = [&] {
    EventLog log(collector.log_path());
    return log.decision_count();
  }();
  ServerUnderTest server(zmq, settings, collector.endpoint());
  Rng rng(11);
  const std::string request = rank_request_template(rng);
  std::uint64_t total_answered = 0;

  zmq::socket_t dealer(zmq, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.set(zmq::sockopt::sndhwm, 0);
  dealer.set(zmq::sockopt::rcvhwm, 0);
  dealer.connect(server.endpoint());
  // Warm up: one answered request.
  {
    const std::string body = with_event_id(request, "warm-" + std::to_string(::getpid()));
    dealer.send(zmq::str_buffer(""), zmq::send_flags::sndmore);
    dealer.send(zmq::buffer(body));
    std::vector<zmq::message_t> reply;
    zmq::pollitem_t item{dealer.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(10000)) != 1) {
      throw std::runtime_error("decision server does not answer");
    }
    (void)zmq::recv_multipart(dealer, std::back_inserter(reply));
    ++total_answered;
  }

  int round = 0;
  for (const double rate : settings.rates) {
    const std::string prefix = "r" + std::to_string(::getpid()) + "-" + std::to_string(round++) + "-";
    const auto total = static_cast<std::uint64_t>(rate * settings.seconds);
    std::vector<Clock::time_point> sent_at(total);
    std::vector<double> latencies, lags;
    latencies.reserve(total);
    lags.reserve(total);
    std::uint64_t next = 0;
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::duration<double>(settings.seconds + 2.0);
    auto receive_ready = [&] {
      for (;;) {
        zmq::message_t delimiter, body;
        if (!dealer.recv(delimiter, zmq::recv_flags::dontwait)) return;
        if (delimiter.more()) (void)dealer.recv(body);
        const auto now = Clock::now();
        const auto index = reply_index(body.to_string_view(), prefix);
        if (index && *index < next) {
          latencies.push_back(std::chrono::duration<double, std::micro>(now - sent_at[*index]).count());
        }
      }
    };
    while (latencies.size() < total && Clock::now() < deadline) {
      auto now = Clock::now();
      while (next < total) {
        const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(static_cast<double>(next) / rate));
        if (due > now) break;
        const std::string body = with_event_id(request, prefix + std::to_string(next));
        dealer.send(zmq::str_buffer(""), zmq::send_flags::sndmore);
        dealer.send(zmq::buffer(body));
        now = Clock::now();
        sent_at[next] = now;
        lags.push_back(std::chrono::duration<double, std::micro>(now - due).count());
        ++next;
      }
      receive_ready();
      if (next < total) {
        const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(static_cast<double>(next) / rate));
        const auto wait = due - Clock::now();
        if (wait > std::chrono::microseconds(0)) {
          zmq::pollitem_t item{dealer.handle(), 0, ZMQ_POLLIN, 0};
          if (wait > std::chrono::milliseconds(1)) {
            zmq::poll(&item, 1, std::chrono::milliseconds(1));
          } else {
            std::this_thread::sleep_for(std::min<Clock::duration>(wait, std::chrono::microseconds(20)));
          }
        }
      } else {
        zmq::pollitem_t item{dealer.handle(), 0, ZMQ_POLLIN, 0};
        zmq::poll(&item, 1, std::chrono::milliseconds(1));
      }
    }
    receive_ready();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    total_answered += latencies.size();
    std::sort(latencies.begin(), latencies.end());
    std::sort(lags.begin(), lags.end());
    std::printf("| %.0f | %.0f | %zu | %" PRIu64 " | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |\n",
                rate, static_cast<double>(latencies.size()) / std::min(elapsed, settings.seconds + 2.0),
                latencies.size(), total - latencies.size(), quantile(latencies, 0.5),
                quantile(latencies, 0.9), quantile(latencies, 0.99), quantile(latencies, 0.999),
                latencies.empty() ? 0.0 : latencies.back(), quantile(lags, 0.99));
    std::fflush(stdout);
    // Drain stragglers before the next rate, for at most 5 s.
    const auto drain_until = Clock::now() + std::chrono::seconds(5);
    zmq::pollitem_t item{dealer.handle(), 0, ZMQ_POLLIN, 0};
    while (Clock::now() < drain_until && zmq::poll(&item, 1, std::chrono::milliseconds(200)) == 1) {
      receive_ready();
    }
    // A rate that was not sustained leaves a backlog that would distort the
    // next one; higher rates are not tried.
    if (static_cast<double>(latencies.size()) < 0.99 * static_cast<double>(total)) {
      std::printf("\n(%.0f/s not sustained: higher rates skipped)\n", rate);
      break;
    }
  }
  const std::uint64_t forwarded = server.finish();
  if (settings.server.empty()) {
    // Every answered decision is in the log (the server's clients flushed).
    EventLog log(collector.log_path());
    const std::size_t logged = log.decision_count() - logged_before;
    // More may be logged than were timed: requests still queued when a rate's
    // window closed are answered (and logged) later, untimed.
    std::printf("\nlogged decisions: %zu; forwarded and acknowledged: %" PRIu64
                "; replies timed: %" PRIu64 "\n",
                logged, forwarded, total_answered);
  }
}

// (c) ZeroMQ alone: small two-part messages DEALER -> ROUTER, and REQ/REP round trips.
void zmq_limits(const Settings& settings) {
  std::printf("\n## zmq: ZeroMQ's own loopback limits (tcp://127.0.0.1)\n\n");
  zmq::context_t zmq(1);
  {
    zmq::socket_t router(zmq, zmq::socket_type::router);
    router.set(zmq::sockopt::rcvhwm, 0);
    router.bind("tcp://127.0.0.1:*");
    const std::string endpoint = router.get(zmq::sockopt::last_endpoint);
    std::atomic<bool> done{false};
    std::thread sender([&] {
      zmq::socket_t dealer(zmq, zmq::socket_type::dealer);
      dealer.set(zmq::sockopt::linger, 0);
      dealer.connect(endpoint);
      const std::string tag = "rew1", id = "event-0000000001";
      // Never blocks, so that it notices `done` even when the queue is full.
      while (!done.load(std::memory_order_relaxed)) {
        if (dealer.send(zmq::buffer(tag), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
          dealer.send(zmq::buffer(id));
        }
      }
    });
    std::uint64_t received = 0;
    zmq::message_t part;
    auto measured_start = Clock::now();
    std::uint64_t measured_first = 0;
    for (;;) {
      (void)router.recv(part);  // routing id
      (void)router.recv(part);
      (void)router.recv(part);
      ++received;
      if (received == 10000) {
        measured_start = Clock::now();
        measured_first = received;
      }
      if (received > 10000 && (received & 0xfff) == 0 && seconds_since(measured_start) > settings.seconds) {
        break;
      }
    }
    const double elapsed = seconds_since(measured_start);
    done = true;
    sender.join();
    std::printf("| measure | value |\n|---|---|\n");
    std::printf("| DEALER -> ROUTER, 2-part 20-byte messages | %.0f messages/s |\n",
                static_cast<double>(received - measured_first) / elapsed);
  }
  {
    zmq::socket_t rep(zmq, zmq::socket_type::rep);
    rep.bind("tcp://127.0.0.1:*");
    const std::string endpoint = rep.get(zmq::sockopt::last_endpoint);
    constexpr int kTrips = 20000;
    std::thread echo([&] {
      zmq::message_t message;
      for (int i = 0; i < kTrips + 100; ++i) {
        (void)rep.recv(message);
        rep.send(message, zmq::send_flags::none);
      }
    });
    zmq::socket_t req(zmq, zmq::socket_type::req);
    req.connect(endpoint);
    std::vector<double> trips;
    std::string body(300, 'x');  // about a rank request's reply
    zmq::message_t reply;
    for (int i = 0; i < kTrips + 100; ++i) {
      const auto start = Clock::now();
      req.send(zmq::buffer(body));
      (void)req.recv(reply);
      if (i >= 100) trips.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    }
    echo.join();
    std::sort(trips.begin(), trips.end());
    std::printf("| REQ/REP round trip, 300 bytes, p50 | %.1f us |\n", quantile(trips, 0.5));
    std::printf("| REQ/REP round trip, 300 bytes, p99 | %.1f us |\n", quantile(trips, 0.99));
    std::printf("| REQ/REP round trips/s (one at a time) | %.0f |\n",
                1e6 * static_cast<double>(trips.size()) /
                    std::accumulate(trips.begin(), trips.end(), 0.0));
  }
}

// (d) Each stage alone, per event, on this thread.
void breakdown(const Settings& settings) {
  std::printf("\n## breakdown: each stage alone, per event (this thread)\n\n");
  std::printf("| stage | payload | wall us/event | CPU us/event |\n|---|---|---|---|\n");
  auto row = [](const char* stage, const char* payload, double wall, double cpu, double n) {
    std::printf("| %s | %s | %.2f | %.2f |\n", stage, payload, 1e6 * wall / n, 1e6 * cpu / n);
    std::fflush(stdout);
  };
  for (const std::string payload : {"small", "bench"}) {
    Rng rng(5);
    std::vector<LoggedDecision> decisions;
    for (int i = 0; i < 2048; ++i) {
      decisions.push_back(bench::random_decision(
          rng, payload == "small" ? bench::kSmallPayload : bench::kBenchPayload));
      decisions.back().decision.event_id = "b-" + std::to_string(i);
    }
    // Encode.
    std::vector<Frames> frames;
    auto wall = Clock::now();
    double cpu = cpu_seconds();
    for (int r = 0; r < 10; ++r) {
      frames.clear();
      for (const auto& d : decisions) frames.push_back(encode_decision(d));
    }
    row("encode_decision", payload.c_str(), seconds_since(wall), cpu_seconds() - cpu, 10.0 * 2048);
    // Decode.
    wall = Clock::now();
    cpu = cpu_seconds();
    std::size_t ok = 0;
    for (int r = 0; r < 10; ++r) {
      for (const auto& f : frames) {
        const std::array<std::string_view, 3> parts{f[0], f[1], f[2]};
        ok += decode_decision(parts).has_value();
      }
    }
    row("decode_decision", payload.c_str(), seconds_since(wall), cpu_seconds() - cpu, 10.0 * 2048);
    if (ok != 10 * 2048) throw std::runtime_error("decode failed");
    // SQLite: batches of 2048 decisions + 2048 rewards (4096 messages, the
    // collector's default max_batch), each one transaction.
    TempDir dir;
    EventLog log(dir.file("events.db"));
    std::vector<Reward> rewards;
    const int batches = std::max(3, static_cast<int>(settings.seconds * 4));
    wall = Clock::now();
    cpu = cpu_seconds();
    for (int b = 0; b < batches; ++b) {
      rewards.clear();
      for (auto& d : decisions) {
        d.decision.event_id = "w" + std::to_string(b) + "-" + d.decision.event_id.substr(d.decision.event_id.find('-') + 1);
        rewards.push_back(Reward{d.decision.event_id, 1.0, 5});
      }
      (void)log.write(decisions, rewards);
    }
    row("EventLog::write, 4096 events/txn", payload.c_str(), seconds_since(wall), cpu_seconds() - cpu,
        static_cast<double>(batches) * 4096);
    wall = Clock::now();
    cpu = cpu_seconds();
    for (int b = 0; b < 200; ++b) {
      rewards.assign(1, Reward{"one-" + std::to_string(b), 1.0, 5});
      (void)log.write({}, rewards);
    }
    row("EventLog::write, 1 event/txn", payload.c_str(), seconds_since(wall), cpu_seconds() - cpu, 200.0);
  }
  // Rank request: JSON parse alone, and a whole answer.
  Rng rng(11);
  const std::string request = rank_request_template(rng);
  const FeatureSchema schema{{}, {}, 8, 4};
  constexpr int kRequests = 20000;
  auto wall = Clock::now();
  double cpu = cpu_seconds();
  for (int i = 0; i < kRequests; ++i) (void)parse_rank_request(request, schema);
  row("parse_rank_request (JSON -> Context)", "small", seconds_since(wall), cpu_seconds() - cpu, kRequests);
  zmq::context_t zmq(1);
  DecisionServerOptions options;
  options.endpoint = "inproc://breakdown";
  DecisionServer server(zmq, options, schema, PolicySnapshot{bench_policy(), nullptr, 0});
  std::vector<LoggedDecision> logged;
  wall = Clock::now();
  cpu = cpu_seconds();
  for (int i = 0; i < kRequests; ++i) {
    logged.clear();
    (void)server.answer(with_event_id(request, "a" + std::to_string(i)), logged);
  }
  row("DecisionServer::answer (parse + decide + reply)", "small", seconds_since(wall), cpu_seconds() - cpu, kRequests);
}

std::vector<double> parse_rates(const std::string& text) {
  std::vector<double> rates;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) rates.push_back(std::stod(item));
  return rates;
}

}  // namespace
}  // namespace recloop

int main(int argc, char** argv) {
  using namespace recloop;
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "e2e_bench: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--seconds") settings.seconds = std::stod(value());
    else if (arg == "--only") settings.only = value();
    else if (arg == "--rates") settings.rates = parse_rates(value());
    else if (arg == "--collector") settings.collector = value();
    else if (arg == "--log") settings.log = value();
    else if (arg == "--server") settings.server = value();
    else if (arg == "--threads") settings.threads = std::stoi(value());
    else {
      std::fprintf(stderr,
                   "usage: e2e_bench [--seconds S] [--only throughput|latency|zmq|breakdown]\n"
                   "                 [--rates R1,R2,...] [--collector ENDPOINT --log FILE]"
                   " [--server ENDPOINT] [--threads N]\n");
      return 2;
    }
  }
  if (settings.collector.empty() != settings.log.empty()) {
    std::fprintf(stderr, "e2e_bench: --collector and --log go together\n");
    return 2;
  }
  try {
    const auto wanted = [&](const char* name) { return settings.only.empty() || settings.only == name; };
    if (wanted("throughput")) throughput(settings);
    if (wanted("latency")) latency(settings);
    if (wanted("zmq")) zmq_limits(settings);
    if (wanted("breakdown")) breakdown(settings);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "e2e_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}

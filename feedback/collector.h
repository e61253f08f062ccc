// SPDX-License-Identifier: Apache-2.0
// The collector: the one writer of an event log. It receives decisions and
// rewards from FeedbackClients on a ROUTER socket, stores each batch in one
// SQLite transaction and, once that has committed, acknowledges every message
// of the batch, duplicates included (zguide ch. 4, "Lazy Pirate" reliability
// with an idempotent server). A client resends anything unacknowledged, so a
// collector killed at any moment loses no acknowledged event, and restarting
// it on the same log and endpoint resumes the stream.
//
// Malformed frames (see wire.h) are counted and dropped without an ack.
//
// Joins (logging/event_log.h): without a reward window, a decision is joined
// to its first reward; with one, rewards are aggregated until the window
// closes (W after the decision was stored, or activated if deferred), and a
// decision without any is joined to the default reward. Windows are closed on
// every loop iteration (an indexed look-up of the due deadlines), in their own
// transaction or in the batch's; after a restart the overdue ones close on the
// first iteration. Rewards after the close are stored as late, never joined.
// Deferred decisions wait for an activation ("act1", acked like the rest).
//
// With a learner endpoint, every interaction joined is pushed there once,
// after the acks of its batch, except those of skip-learning decisions
// (counted in CollectorStats::skipped_learning). Within one run no interaction
// is pushed twice. A join is committed before it is pushed, so a collector
// killed in between never pushes it (at most once across a crash); the log
// has it, and a learner can replay the log. The push blocks while no learner is connected or the
// learner is HWM-full: that back-pressure stops the collector from receiving,
// so interactions are not dropped on the floor. Only when `stop` is raised while
// a push is waiting are the batch's remaining interactions skipped (counted in
// CollectorStats::undelivered); they are in the log, which a learner can replay.
//
// Threads: construct, then call run() from one thread at a time (a thread other
// than the constructing one is fine). stats() may be called from any thread.
#pragma once

#include "feedback/curve.h"
#include "feedback/logger.h"
#include "logging/event_log.h"

#include <zmq.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace recloop {

struct CollectorOptions {
  std::string endpoint = "tcp://127.0.0.1:5555";  // ROUTER bind; no keys, so loopback by default
  std::string learner_endpoint;                   // PUSH bind for joined interactions; empty = none
  std::string log_path;                           // SQLite file (":memory:" in tests)
  int max_batch = 4096;                           // messages per transaction, >= 1
  int poll_timeout_ms = 100;                      // how often `stop` is checked when idle, >= 1
  // CurveZMQ on both sockets (curve.h): only listed clients and learners get
  // in. Needs a CurveAuthenticator on the context. Empty = plain TCP.
  std::optional<ServerKeys> curve;
  // Join mode (logging/event_log.h): window_us = 0 joins at the first reward;
  // otherwise rewards are aggregated over a window and a decision without any
  // gets default_reward when its window closes.
  std::int64_t window_us = 0;
  double default_reward = 0.0;
  RewardAggregation aggregation = RewardAggregation::earliest;
  // The collector's clock (microseconds since the Unix epoch) for the
  // windows; empty = the system clock. Tests inject a fake one.
  std::function<std::int64_t()> now_us;
  // Called on the collector thread for every interaction joined, after its
  // transaction has committed and before it is pushed to the learner;
  // skip-learning decisions included (they are joined, only not learned).
  std::function<void(const Interaction&)> on_joined;
  // Log lines (windows closed, late rewards, rejected frames); the default writes nothing.
  Logger log;
};

struct CollectorStats {
  std::uint64_t decisions = 0;        // new decisions stored
  std::uint64_t rewards = 0;          // new rewards stored
  std::uint64_t duplicates = 0;       // decisions, rewards or activations already stored (acked again)
  std::uint64_t joined = 0;           // interactions completed
  std::uint64_t rejected_frames = 0;  // malformed messages dropped without an ack
  std::uint64_t batches = 0;          // transactions committed
  std::uint64_t undelivered = 0;      // joined but not pushed to the learner because of stop
  std::uint64_t defaulted = 0;        // joined with the default reward: none came within the window
  std::uint64_t late = 0;             // rewards that arrived after their window closed (logged only)
  std::uint64_t skipped_learning = 0; // joined interactions not passed to the learner (skip learning)
  std::uint64_t activations = 0;      // deferred decisions activated
};

class Collector {
 public:
  // Opens the log and binds the sockets. Throws recloop::Error naming the
  // endpoint or path on failure, std::invalid_argument for bad options.
  Collector(zmq::context_t& zmq, CollectorOptions options);
  ~Collector();
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  // Serves until `stop` is true: closes the windows that are due, waits up to
  // poll_timeout_ms for messages, drains what is ready (up to max_batch),
  // writes it in one transaction, commits, acks each message, then hands newly
  // joined interactions to on_joined and the learner. A signal
  // interrupting the wait (EINTR) only wakes it up. When `stop` is seen, the
  // current batch is finished and run() returns. Throws recloop::Error if the
  // log cannot be written (nothing of that batch is acked).
  void run(const std::atomic<bool>& stop);

  CollectorStats stats() const;
  // The endpoints actually bound: a "tcp://127.0.0.1:*" wildcard resolved to its port.
  const std::string& endpoint() const { return endpoint_; }
  const std::string& learner_endpoint() const { return learner_endpoint_; }

 private:
  struct Batch;
  bool receive_into(Batch& batch);
  void commit(Batch& batch, const std::atomic<bool>& stop);
  void deliver(const EventLog::WriteResult& result, const std::atomic<bool>& stop);
  void close_due_windows(const std::atomic<bool>& stop);
  bool push(const Interaction& interaction, const std::atomic<bool>& stop);
  // Counts a dropped message and logs it at warn, at most one line a second
  // (a flood of bad frames must not become a flood of lines).
  void reject(std::string_view reason, std::string_view tag);

  CollectorOptions options_;
  EventLog log_;
  zmq::socket_t router_;
  zmq::socket_t learner_;  // unbound (and unused) when learner_endpoint is empty
  std::string endpoint_;
  std::string learner_endpoint_;

  std::atomic<std::uint64_t> decisions_{0}, rewards_{0}, duplicates_{0}, joined_{0},
      rejected_frames_{0}, batches_{0}, undelivered_{0}, defaulted_{0}, late_{0},
      skipped_learning_{0}, activations_{0};
  std::chrono::steady_clock::time_point last_rejection_line_{};
  std::uint64_t rejections_not_logged_ = 0;
};

}  // namespace recloop

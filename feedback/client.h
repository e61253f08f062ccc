// SPDX-License-Identifier: Apache-2.0
// The two ends an application holds: FeedbackClient sends decisions and rewards
// to a Collector reliably; InteractionStream receives the joined interactions a
// collector pushes to learners.
//
// FeedbackClient (DEALER) keeps every message until the collector acknowledges
// it, keyed by (kind, event id) and, for a reward, its reward id, and resends whatever has been unacknowledged
// for resend_timeout_ms: "Lazy Pirate" from zguide ch. 4, except that a DEALER
// has no REQ lock-step, so sends are pipelined and the socket is never
// re-created. The collector stores by event id, so resends are harmless and a
// collector that starts late, or is restarted, still receives everything.
// Sending the same key again while it is unacknowledged replaces the kept copy.
//
// Nothing happens in the background: acks are read and resends made only inside
// send(), poll() and flush(), so call poll() regularly (or flush() before
// exiting). Messages still unacknowledged when the client is destroyed are lost
// to it. Not thread-safe: one client per thread.
#pragma once

#include "core/types.h"
#include "feedback/curve.h"
#include "feedback/wire.h"

#include <zmq.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

namespace recloop {

struct ClientOptions {
  // Resend what has been unacknowledged this long, >= 1.
  int resend_timeout_ms = 1000;
  // send() waits, reading acks, while this many messages are unacknowledged; >= 1.
  std::size_t max_unacknowledged = 1'000'000;
  // CurveZMQ client keys for a collector bound with keys (curve.h); empty = plain TCP.
  std::optional<ClientKeys> curve;
};

class FeedbackClient {
 public:
  // Connects to `endpoint` (it need not be bound yet). Throws recloop::Error
  // naming the endpoint if it cannot be used, std::invalid_argument for bad options.
  FeedbackClient(zmq::context_t& zmq, const std::string& endpoint, ClientOptions options = {});
  FeedbackClient(const FeedbackClient&) = delete;
  FeedbackClient& operator=(const FeedbackClient&) = delete;

  // Queue one event and send it if the socket can take it now. When
  // max_unacknowledged events are pending, first waits for acks, indefinitely:
  // that back-pressure is the only way a client can block.
  void send(const LoggedDecision& decision);
  void send(const Reward& reward);
  // Activates a deferred decision (Decision::deferred): its reward window
  // opens at the collector. May be sent before the decision itself;
  // activating a decision that is not deferred changes nothing.
  void activate(const EventId& event_id);

  // Waits up to timeout_ms (0: just look) for acks, processes every ack that
  // has arrived, and (re)sends what is due.
  void poll(int timeout_ms);
  // Polls until everything sent has been acknowledged (true) or timeout_ms has
  // passed (false).
  bool flush(int timeout_ms);
  std::size_t unacknowledged() const {
    return pending_[0].size() + pending_[1].size() + pending_[2].size();
  }
  // Resends made so far (timeouts), for monitoring.
  std::uint64_t resends() const { return resends_; }
  // send() calls that had to wait for acks because max_unacknowledged events
  // were pending (back-pressure engaged), for monitoring.
  std::uint64_t blocked_sends() const { return blocked_sends_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    Frames frames;
    Clock::time_point sent_at;  // last hand-over to the socket; valid when !queued
    bool queued = false;        // waiting in backlog_ for the socket to take it
  };
  struct Key {
    EventKind kind;
    std::string id;  // pending_key(): the event id, and a reward's reward id
  };
  struct Sent {
    Key key;
    Clock::time_point at;
  };
  struct TransparentHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const {
      return std::hash<std::string_view>{}(text);
    }
  };
  using Pending = std::unordered_map<std::string, Entry, TransparentHash, std::equal_to<>>;

  // The key of a pending message within its kind: the event id, followed for
  // a reward with a reward id by a NUL and the reward id (event ids hold no
  // control characters, so keys of different rewards never collide).
  static std::string pending_key(std::string_view event_id, std::string_view reward_id);
  void enqueue(EventKind kind, std::string id, Frames frames);
  bool transmit(const Key& key, Entry& entry, Clock::time_point now);
  void drain_backlog(Clock::time_point now);
  void resend_due(Clock::time_point now);
  void read_acks();
  Pending& pending(EventKind kind) { return pending_[static_cast<int>(kind)]; }

  zmq::socket_t socket_;
  std::string endpoint_;
  ClientOptions options_;
  Pending pending_[3];          // unacknowledged, by kind then pending_key()
  std::deque<Key> backlog_;     // waiting for the socket to accept them, oldest first
  std::deque<Sent> in_flight_;  // handed to the socket, oldest first; stale records skipped
  std::uint64_t resends_ = 0;
  std::uint64_t blocked_sends_ = 0;
};

// PULL end of a collector's learner endpoint. Not thread-safe.
class InteractionStream {
 public:
  // Connects to `learner_endpoint`, as a CurveZMQ client when `curve` is given;
  // throws recloop::Error naming it on failure.
  InteractionStream(zmq::context_t& zmq, const std::string& learner_endpoint,
                    const std::optional<ClientKeys>& curve = std::nullopt);
  // The next interaction, or nullopt if none arrives within timeout_ms (or a
  // signal interrupts the wait). Throws recloop::Error on a malformed frame:
  // only a collector writes here, so that is a version mismatch, not noise.
  std::optional<Interaction> receive(int timeout_ms);

 private:
  zmq::socket_t socket_;
  std::string endpoint_;
};

}  // namespace recloop

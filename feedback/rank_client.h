// SPDX-License-Identifier: Apache-2.0
// RankClient: the application's end of `recloop serve`. It sends one JSON rank
// request (the format in decision_server.h) to a decision server, waits up to
// timeout_ms for the reply and, when none comes, retries on a fresh socket,
// failing over to the next endpoint of its list.
//
// Reliability ("Lazy Pirate", zguide ch. 4): each attempt uses a REQ socket.
// After a timeout that socket is closed (linger 0, so the unanswered request
// is dropped) and a new one is connected to the next endpoint in the list
// (round robin; with one endpoint, the same one again), and the same request
// is sent again. A reply that comes late to a closed socket is discarded, so
// every reply rank() returns belongs to the request it sent. After
// 1 + retries attempts without a reply, rank() gives up (nullopt). The next
// request starts at the endpoint that answered last.
//
// Event ids: every attempt of one request carries the same "eventId". When
// the request has none, rank() adds one (`<prefix>-<n>`, see
// RankClientOptions::event_id_prefix) before the first attempt, so a request
// that was answered and logged but whose reply was lost is logged under the
// same id when it is retried, and the collector, which stores one decision
// per event id, keeps only one of them.
// The edge case that remains: a retry is decided afresh. On the same server
// with the same model the decision replays exactly (decision_seed of the run
// seed and event id), but if the retry reaches another server (another run
// seed or model version) or the server swapped its model in between, the
// retried decision can differ from the first. The collector then keeps
// whichever copy reaches it first, which need not be the one whose reply the
// application acted on; the reward it reports would then be joined to an
// action it did not show. Servers that should be interchangeable for failover
// must therefore share --seed and subscribe to the same model stream; the
// window is the time between a lost reply and its retry.
//
// A reply is returned as received, an {"error": ...} reply included (a bad
// request is not retried: it would be refused again). Not thread-safe: use one
// RankClient per thread (each holds its own socket).
#pragma once

#include "core/types.h"
#include "feedback/curve.h"

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace recloop {

struct RankClientOptions {
  std::vector<std::string> endpoints;  // decision servers, tried in this order; >= 1
  int timeout_ms = 2500;               // wait for one attempt's reply, >= 1
  int retries = 3;                     // further attempts after a timeout, >= 0
  // Prefix of the event ids rank() generates. Empty: 16 hex digits derived
  // from the start time, process id and this client's address, so that
  // clients and restarts do not collide.
  std::string event_id_prefix;
  // CurveZMQ: this client's key pair and the servers' public key (curve.h),
  // applied to every socket; servers that fail over for each other therefore
  // share one server key pair. nullopt = plain TCP.
  std::optional<ClientKeys> curve;
};

// One reply and where it came from.
struct RankReply {
  EventId event_id;        // the request's eventId (given or generated)
  std::string text;        // the reply as received
  nlohmann::json json;     // the reply parsed; discarded() if it was not JSON
  std::string endpoint;    // the server that answered
  int attempts = 1;        // 1 = answered on the first try
  // A decision: a JSON object without "error".
  bool ok() const { return json.is_object() && !json.contains("error"); }
};

struct RankClientStats {
  std::uint64_t requests = 0;   // rank() calls that sent something
  std::uint64_t answered = 0;   // of those, with a reply (an error reply included)
  std::uint64_t abandoned = 0;  // of those, without a reply after every attempt
  std::uint64_t retries = 0;    // attempts after a timeout
  std::uint64_t failovers = 0;  // of those, sent to another endpoint than the attempt before
};

// The endpoints of repeated or comma-separated values ("a,b" "c" -> a, b, c).
// Throws std::invalid_argument for an empty item ("a,,b", a trailing comma).
std::vector<std::string> split_endpoints(const std::vector<std::string>& values);

class RankClient {
 public:
  // Throws std::invalid_argument for no endpoints or out-of-range options. The
  // endpoints need not be bound yet; one that cannot be connected to at all
  // (malformed) makes rank() throw recloop::Error naming it.
  RankClient(zmq::context_t& zmq, RankClientOptions options);
  RankClient(const RankClient&) = delete;
  RankClient& operator=(const RankClient&) = delete;

  // Sends `request` (a JSON object; "eventId" added when absent) and returns
  // the reply, or nullopt when no attempt was answered within timeout_ms.
  // Throws std::invalid_argument when `request` is not a JSON object.
  std::optional<RankReply> rank(nlohmann::json request);
  // The same for request text; throws std::invalid_argument if it is not a
  // JSON object.
  std::optional<RankReply> rank_text(std::string_view request);

  const RankClientStats& stats() const { return stats_; }
  const RankClientOptions& options() const { return options_; }
  // The endpoint the next request goes to first.
  const std::string& current_endpoint() const { return options_.endpoints[current_]; }

 private:
  void connect();  // a fresh REQ socket to endpoints_[current_]

  zmq::context_t& zmq_;
  RankClientOptions options_;
  std::optional<zmq::socket_t> socket_;
  std::size_t current_ = 0;
  std::uint64_t next_id_ = 0;
  RankClientStats stats_;
};

}  // namespace recloop

// SPDX-License-Identifier: Apache-2.0
// The decision server: answers rank requests from applications with a policy's
// decision, and forwards every decision to a Collector, so that the rewards
// the application reports later (FeedbackClient or `recloop reward`, keyed by
// the same event id) join it in the log.
//
// Sockets (zguide ch. 3, "multithreaded server"): a ROUTER frontend that
// applications connect to, an inproc DEALER backend, and `threads` workers,
// each a REP socket on the backend. The frontend loop only moves messages
// between the two, so requests are answered concurrently and a slow request
// does not hold up the others. Every worker owns its FeedbackClient (DEALER to
// the collector): a worker replies first, then queues the decision in its
// client, which sends it without waiting (client.h); the reply never waits for
// the collector or its disk. Idle workers poll their client so resends happen.
//
// Policy: all workers read one immutable snapshot (policy, optional ranker,
// model version). Each worker keeps its own shared_ptr to the current snapshot
// and, per request, compares one atomic publication counter with the one it
// last saw; only after a publish() does it take the publisher's mutex, once, to
// copy the new pointer. So the request path takes no lock between swaps, and a
// request decides with one snapshot from start to end. (libstdc++ 12's
// std::atomic<std::shared_ptr> is not used: its load() releases an internal
// lock with relaxed ordering, which ThreadSanitizer reports as a race.)
// Policy's const members are safe to call concurrently (policy.h).
//
// Request: one message part holding a JSON object (from a REQ socket; from a
// DEALER, an empty delimiter part first), at most max_request_bytes:
//   {
//     "eventId":  "abc-1",                   optional string; generated when absent
//     "contextFeatures": [{"age": 0.3}, {"mobile": 1}]   or {"age": 0.3, "mobile": 1}
//     "actions": [{"id": "item-17", "features": [{"price": 0.2}]}, ...],
//     "slots": 3,                            optional: rank 3 of the candidates
//     "baselineAction": "item-17",           optional: a candidate id, echoed back
//                                            (served instead in apprentice mode)
//     "sessionId": "s-9", "step": 3,         optional: the user session (1 .. 200 bytes, no
//                                            control characters) and this request's index in
//                                            it (0 .. 2^32-1; needs sessionId), logged with
//                                            the decision (Decision::session, step)
//     "deferActivation": true,               optional (false): logged now, joined only once
//                                            the application activates the event id
//     "skipLearning": true                   optional (false): logged and joined, never
//                                            passed to a learner
//   }
// Reply: one part, a JSON object. Without "slots":
//   {"eventId": "abc-1", "rewardActionId": "item-17", "policy": "lin_ucb",
//    "modelVersion": 42,
//    "ranking": [{"id": "item-17", "probability": 0.9}, {"id": 3, "probability": 0.1}]}
// "ranking" holds every candidate with its probability under the policy's pmf:
// the chosen one first, then the others by decreasing probability (ties in
// request order). The chosen candidate's probability is the one logged.
// With "slots": L (1 <= L <= candidates), the server's ranker draws L
// candidates; "ranking" holds those L, in slot order, each with "probability"
// (P(candidate at this slot), the marginal that is logged), "conditional"
// (given the slots before it) and "eventId": "<eventId>/<k>", the id under
// which slot k is logged and its reward must be reported (policies/ranker.h);
// "rewardActionId" is the candidate at slot 0.
// An unusable request gets {"error": "..."} naming what was wrong, and is
// counted in DecisionServerStats::rejected; it never stops the server.
//
// Apprentice mode (DecisionServerOptions::apprentice, after Azure
// Personalizer's): a single-slot request with "baselineAction" is served the
// baseline, the application's own deterministic choice, while the policy
// still decides (same seed, same snapshot) so that the two can be compared:
//   {"eventId": ..., "rewardActionId": <baseline>, "policy": "baseline",
//    "apprentice": true, "policyActionId": <the policy's choice>,
//    "ranking": [{"id": <baseline>, "probability": 1}, {"id": ..., "probability": 0}, ...]}
// What is logged is what was served, with its real probability under what
// chose it: the baseline candidate, probability 1, a one-hot pmf, under the
// policy name kBaselinePolicy. Why that name and not "<policy>/apprentice":
// the logged name must say what chose the action. Estimators and reports
// group and filter logs by that name (bias report, --policy filters, DSJSON
// export), so apprentice traffic forms its own deterministic logging policy
// whose probability-1, one-hot records carry no exploration (every
// off-policy weight is pi(baseline)/1, with no support elsewhere) and are
// never pooled with the policy's own randomized decisions. The policy's choice
// is not logged; DecisionServerStats counts how often it equals the baseline
// (apprentice_decisions, apprentice_agreements). Requests without
// "baselineAction" are served by the policy, and "slots" requests by the
// ranker, as usual (a baseline then only echoed). Without apprentice mode
// "baselineAction" is only echoed.
//
// Features (FeatureSchema): "contextFeatures" fills Context::user and each
// action's "features" its column of Context::actions. Either is a JSON object
// or an array of objects (merged; a key given twice is an error). Values are
// finite numbers or booleans (true = 1). With a list of names, the vector is
// those features in list order, a missing one 0 (an absent sparse feature) and
// a key not in the list an error; without one, the vector is every key's value
// in byte-wise key order, and the number of keys must equal the dimension.
// Candidate ids are strings or non-negative integers, distinct within a
// request; Context::items holds the integer, or the decimal value of a string
// of digits, or else FNV-1a-64 (core/rng.h) of the string.
//
// Thread safety: construct, then run() from one thread. publish() and stats()
// may be called from any thread while run() is serving.
#pragma once

#include "core/types.h"
#include "feedback/rank_request.h"
#include "feedback/curve.h"
#include "feedback/logger.h"
#include "policies/policy.h"
#include "policies/ranker.h"

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace recloop {

// The policy name apprentice-mode decisions are logged under (see above).
inline constexpr std::string_view kBaselinePolicy = "baseline";

// Appends `value` as nlohmann::json::dump() writes a double: the shortest
// digits that read back as it (std::to_chars) in nlohmann's layout ("1.0",
// "0.25", "0.0001", "1e-05", "1.5e+16"); "null" when not finite. nlohmann's
// Grisu2 digits are not always the shortest: for about 1 value in 1000 the two
// texts differ in the last digits, and read back to the same double.
void append_json_double(std::string& out, double value);

struct DecisionServerOptions {
  std::string endpoint = "tcp://127.0.0.1:5570";  // ROUTER bind; no keys, so loopback by default
  std::string collector_endpoint;                 // where decisions go; empty = nowhere
  int threads = 1;                                // workers, >= 1
  std::size_t max_request_bytes = 1u << 20;       // larger requests get an error reply
  std::uint64_t run_seed = 0;                     // decision_seed(run_seed, event id)
  int poll_timeout_ms = 50;                       // how often idle loops check `stop`, >= 1
  int flush_timeout_ms = 5000;                    // bound on the final flush of each client
  int resend_timeout_ms = 1000;                   // FeedbackClient's resend timeout
  bool apprentice = false;  // serve "baselineAction" when given (apprentice mode, see above)
  // CurveZMQ on the frontend (curve.h; a CurveAuthenticator must run on the
  // context): only listed applications get answers. Empty = plain TCP.
  std::optional<ServerKeys> curve;
  // Client keys of the workers' FeedbackClients, for a collector bound with keys.
  std::optional<ClientKeys> collector_curve;
  // Warn lines for rejected requests, at most one a second (with the number
  // not logged since); the default logger writes nothing.
  Logger logger;
};

struct DecisionServerStats {
  std::uint64_t requests = 0;        // requests received by the workers
  std::uint64_t answered = 0;        // decisions replied
  std::uint64_t rejected = 0;        // error replies for bad requests
  std::uint64_t failed = 0;          // error replies for a failure inside the policy
  std::uint64_t forwarded = 0;       // logged decisions handed to a FeedbackClient (one per slot)
  std::uint64_t unacknowledged = 0;  // of those, not acknowledged when the workers stopped
  std::uint64_t swaps = 0;           // snapshots published after the first
  // Apprentice mode: requests served their baseline, and of those, the ones
  // where the policy's own draw was the baseline candidate too.
  std::uint64_t apprentice_decisions = 0;
  std::uint64_t apprentice_agreements = 0;
  // Of the answered requests, those whose chosen action (slot 0's, for a
  // ranking) is not an argmax of the pmf it was drawn from: explored / answered
  // is the exploration rate.
  std::uint64_t explored = 0;
  // Sum over answered requests of the logged probability of that action.
  double probability_sum = 0.0;
};

// What the workers decide with. Immutable once published.
struct PolicySnapshot {
  std::shared_ptr<const Policy> policy;
  std::shared_ptr<const Ranker> ranker;  // over `policy`; null = "slots" requests are refused
  std::uint64_t version = 0;             // reported as modelVersion and logged
};

class DecisionServer {
 public:
  // Binds the frontend. Throws recloop::Error naming the endpoint if it cannot
  // be bound, std::invalid_argument for bad options or a null policy.
  DecisionServer(zmq::context_t& zmq, DecisionServerOptions options, FeatureSchema schema,
                 PolicySnapshot first);
  ~DecisionServer();
  DecisionServer(const DecisionServer&) = delete;
  DecisionServer& operator=(const DecisionServer&) = delete;

  // Serves until `stop` is true, then stops taking requests, lets every worker
  // flush its client for up to flush_timeout_ms, joins them and returns.
  // Rethrows, after the same shutdown, an exception that ended a worker (a
  // collector endpoint that cannot be connected to).
  void run(const std::atomic<bool>& stop);

  // Makes `next` the snapshot every request from now on decides with.
  void publish(PolicySnapshot next);
  std::shared_ptr<const PolicySnapshot> snapshot() const;

  DecisionServerStats stats() const;
  // The endpoint actually bound: a "tcp://127.0.0.1:*" wildcard resolved to its port.
  const std::string& endpoint() const { return endpoint_; }

  // The reply to one request body: a decision or {"error": ...}. Public so it
  // can be tested without sockets; `decisions` receives what must be logged.
  std::string answer(std::string_view body, std::vector<LoggedDecision>& decisions);

 private:
  // A worker's copy of the current snapshot and the publication it came from.
  struct SnapshotView {
    std::shared_ptr<const PolicySnapshot> snapshot;
    std::uint64_t publication = ~std::uint64_t{0};
  };
  // The current snapshot, refreshing `view` if a publish() happened since.
  const PolicySnapshot& current(SnapshotView& view) const;
  // Writes the reply into `reply` (cleared first), reusing its capacity.
  void answer(std::string_view body, std::vector<LoggedDecision>& decisions, SnapshotView& view,
              RankParseBuffers& buffers, std::string& reply);
  void work(const std::atomic<bool>& stop);
  EventId next_event_id();
  // Counts nothing; logs `reason` if no rejection was logged in the last second.
  void note_rejection(std::string_view reason);

  zmq::context_t& zmq_;
  DecisionServerOptions options_;
  FeatureSchema schema_;
  zmq::socket_t frontend_;
  std::string endpoint_;
  std::string backend_endpoint_;
  std::string id_prefix_;
  mutable std::mutex publish_mutex_;                 // guards snapshot_
  std::shared_ptr<const PolicySnapshot> snapshot_;
  std::atomic<std::uint64_t> publications_{0};       // incremented after each swap
  std::atomic<std::uint64_t> apprentice_decisions_{0}, apprentice_agreements_{0};
  std::atomic<std::uint64_t> next_id_{0};
  std::atomic<std::uint64_t> requests_{0}, answered_{0}, rejected_{0}, failed_{0}, forwarded_{0},
      unacknowledged_{0}, swaps_{0}, explored_{0};
  std::atomic<double> probability_sum_{0.0};
  std::atomic<std::int64_t> last_rejection_log_us_{0};
  std::atomic<std::uint64_t> unlogged_rejections_{0};
};

}  // namespace recloop

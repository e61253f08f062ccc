// SPDX-License-Identifier: Apache-2.0
// Model snapshots from a learner to decision servers, over ZeroMQ PUB/SUB.
//
//   learner -> servers (PUB -> SUB), one message per snapshot
//     snapshot  ["mod1", version, model]
//
// `version` is a base-10 u64 chosen by the learner (recloop learn uses the
// policy's model_version(), its number of updates); `model` is the model-file
// bytes of policies/model_file.h (serialize_policy), checksummed, so a
// truncated or corrupted snapshot is refused rather than served. A snapshot
// larger than kMaxModelBytes is dropped by the subscriber's socket.
//
// PUB/SUB drops messages for subscribers that are not connected yet, so a
// publisher repeats its latest snapshot (republish()) and subscribers ignore
// a version equal to the one they hold.
//
// Neither class is thread-safe: one thread per object.
#pragma once

#include "feedback/curve.h"
#include "policies/policy.h"

#include <zmq.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace recloop {

inline constexpr std::string_view kModelTag = "mod1";
inline constexpr std::int64_t kMaxModelBytes = std::int64_t{1} << 30;

class ModelPublisher {
 public:
  // Binds a PUB socket to `endpoint`, as a CurveZMQ server when `curve` is
  // given (a CurveAuthenticator must run on `zmq`); throws recloop::Error
  // naming it on failure.
  ModelPublisher(zmq::context_t& zmq, const std::string& endpoint,
                 const std::optional<ServerKeys>& curve = std::nullopt);
  // Sends `policy`'s model as `version` and keeps it for republish(). Throws
  // std::logic_error if the policy cannot be saved.
  void publish(const Policy& policy, std::uint64_t version);
  // Sends the latest snapshot again, if there is one.
  void republish();
  // The endpoint actually bound (a wildcard port resolved).
  const std::string& endpoint() const { return endpoint_; }
  std::uint64_t published() const { return published_; }

 private:
  zmq::socket_t socket_;
  std::string endpoint_;
  std::string version_text_;
  std::string model_;
  std::uint64_t published_ = 0;
};

struct ModelSnapshot {
  std::uint64_t version = 0;
  std::unique_ptr<Policy> policy;
};

class ModelSubscriber {
 public:
  // Connects a SUB socket to `endpoint`, as a CurveZMQ client when `curve` is
  // given; throws recloop::Error naming it on failure.
  ModelSubscriber(zmq::context_t& zmq, const std::string& endpoint,
                  const std::optional<ClientKeys>& curve = std::nullopt);
  // Waits up to timeout_ms for a snapshot, then reads every one already
  // queued and returns the last that decodes; nullopt if none did. Malformed
  // snapshots are counted in rejected() and skipped.
  std::optional<ModelSnapshot> receive(int timeout_ms);
  std::uint64_t rejected() const { return rejected_; }

 private:
  zmq::socket_t socket_;
  std::string endpoint_;
  std::uint64_t rejected_ = 0;
};

}  // namespace recloop

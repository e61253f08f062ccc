// SPDX-License-Identifier: Apache-2.0
#include "feedback/collector.h"

#include "core/error.h"
#include "feedback/wire.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

namespace recloop {
namespace {

// Routing id + the most parts any message of wire.h has; longer messages are
// drained and rejected.
constexpr std::size_t kMaxParts = 6;

// Acks a ROUTER may queue for one peer. A ROUTER drops (and the client then
// resends) whatever exceeds this, so it must hold several whole batches of
// acks; an ack is a few dozen bytes.
constexpr int kAckHighWaterMark = 1 << 20;

// How long the learner socket may keep undelivered interactions when the
// collector shuts down with a learner still connected.
constexpr int kLearnerLingerMs = 1000;

std::string_view view(const zmq::message_t& message) {
  return {static_cast<const char*>(message.data()), message.size()};
}

bool is_interrupt(const zmq::error_t& e) { return e.num() == EINTR; }

std::string bind_socket(zmq::socket_t& socket, const std::string& endpoint, std::string_view role) {
  try {
    socket.bind(endpoint);
    return socket.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    throw Error("collector: cannot bind " + std::string(role) + " socket to '" + endpoint +
                "': " + e.what());
  }
}

CollectorOptions checked(CollectorOptions options) {
  if (options.max_batch < 1) {
    throw std::invalid_argument("collector: max_batch must be >= 1, got " +
                                std::to_string(options.max_batch));
  }
  if (options.poll_timeout_ms < 1) {
    throw std::invalid_argument("collector: poll_timeout_ms must be >= 1, got " +
                                std::to_string(options.poll_timeout_ms));
  }
  if (options.log_path.empty()) throw std::invalid_argument("collector: log_path is empty");
  return options;
}

JoinOptions join_options(const CollectorOptions& options) {
  JoinOptions join;
  join.window_us = options.window_us;
  join.default_reward = options.default_reward;
  join.aggregation = options.aggregation;
  join.now_us = options.now_us;
  return join;
}

}  // namespace

// One drained batch; its vectors are reused from batch to batch.
struct Collector::Batch {
  struct Ack {
    std::string peer;  // ROUTER routing id of the sender
    EventKind kind;
    std::size_t index;  // into decisions, rewards or activations
  };
  std::vector<LoggedDecision> decisions;
  // Decisions of earlier batches, kept for their storage: a message is decoded
  // into one of them, so a steady stream of one shape allocates nothing.
  std::vector<LoggedDecision> spare;
  std::vector<Reward> rewards;
  std::vector<EventId> activations;
  std::vector<Ack> acks;
  std::array<zmq::message_t, kMaxParts> parts;
  zmq::message_t overflow;  // parts beyond kMaxParts, discarded

  std::size_t size() const { return acks.size(); }
  // A slot at the end of `decisions` to decode into, with a spare's storage if any.
  LoggedDecision& next_decision() {
    if (spare.empty()) return decisions.emplace_back();
    decisions.push_back(std::move(spare.back()));
    spare.pop_back();
    return decisions.back();
  }
  // Returns the last slot (a message that did not decode) to the spares.
  void drop_last_decision() {
    spare.push_back(std::move(decisions.back()));
    decisions.pop_back();
  }
  void clear() {
    for (auto& decision : decisions) spare.push_back(std::move(decision));
    decisions.clear();
    rewards.clear();
    activations.clear();
    acks.clear();
  }
};

Collector::Collector(zmq::context_t& zmq, CollectorOptions options)
    : options_(checked(std::move(options))),
      log_(options_.log_path, join_options(options_)),
      router_(zmq, zmq::socket_type::router) {
  // Unacked messages are resent by the clients: nothing worth waiting for at close.
  router_.set(zmq::sockopt::linger, 0);
  router_.set(zmq::sockopt::maxmsgsize, kMaxMessageBytes);
  router_.set(zmq::sockopt::sndhwm, std::max(kAckHighWaterMark, 4 * options_.max_batch));
  if (options_.curve) apply_server_keys(zmq, router_, *options_.curve, "collector");
  endpoint_ = bind_socket(router_, options_.endpoint, "ROUTER");
  if (!options_.learner_endpoint.empty()) {
    learner_ = zmq::socket_t(zmq, zmq::socket_type::push);
    learner_.set(zmq::sockopt::linger, kLearnerLingerMs);
    // A bounded wait, so a blocked push can notice `stop`.
    learner_.set(zmq::sockopt::sndtimeo, options_.poll_timeout_ms);
    if (options_.curve) apply_server_keys(zmq, learner_, *options_.curve, "learner");
    learner_endpoint_ = bind_socket(learner_, options_.learner_endpoint, "learner PUSH");
  }
}

Collector::~Collector() = default;

CollectorStats Collector::stats() const {
  CollectorStats s;
  s.decisions = decisions_.load(std::memory_order_relaxed);
  s.rewards = rewards_.load(std::memory_order_relaxed);
  s.duplicates = duplicates_.load(std::memory_order_relaxed);
  s.joined = joined_.load(std::memory_order_relaxed);
  s.rejected_frames = rejected_frames_.load(std::memory_order_relaxed);
  s.batches = batches_.load(std::memory_order_relaxed);
  s.undelivered = undelivered_.load(std::memory_order_relaxed);
  s.defaulted = defaulted_.load(std::memory_order_relaxed);
  s.late = late_.load(std::memory_order_relaxed);
  s.skipped_learning = skipped_learning_.load(std::memory_order_relaxed);
  s.activations = activations_.load(std::memory_order_relaxed);
  return s;
}

void Collector::run(const std::atomic<bool>& stop) {
  Batch batch;
  const auto timeout = std::chrono::milliseconds(options_.poll_timeout_ms);
  while (!stop.load()) {
    // An indexed look-up of the due deadlines; after a restart this closes
    // every overdue window on the first iteration.
    close_due_windows(stop);
    std::array<zmq::pollitem_t, 1> items{{{router_.handle(), 0, ZMQ_POLLIN, 0}}};
    try {
      zmq::poll(items.data(), items.size(), timeout);
    } catch (const zmq::error_t& e) {
      if (is_interrupt(e)) continue;  // a signal: re-check `stop`
      throw Error("collector on '" + endpoint_ + "': poll failed: " + e.what());
    }
    if (!(items[0].revents & ZMQ_POLLIN)) continue;
    // Drain only what has already arrived: waiting to fill a batch would add
    // latency, while under load the queue fills batches by itself.
    while (batch.size() < static_cast<std::size_t>(options_.max_batch) && receive_into(batch)) {
    }
    commit(batch, stop);
  }
}

// Receives one whole message without waiting; false if none is ready.
bool Collector::receive_into(Batch& batch) {
  std::size_t count = 0;
  bool more = true;
  while (more) {
    zmq::message_t& part = count < kMaxParts ? batch.parts[count] : batch.overflow;
    try {
      // Parts after the first of a multipart message are already here.
      const auto flags = count == 0 ? zmq::recv_flags::dontwait : zmq::recv_flags::none;
      if (!router_.recv(part, flags)) return false;
    } catch (const zmq::error_t& e) {
      if (is_interrupt(e) && count == 0) return false;
      throw Error("collector on '" + endpoint_ + "': receive failed: " + e.what());
    }
    more = part.more();
    ++count;
  }
  if (count > kMaxParts || count < 2) {
    reject(count < 2 ? "message without a body" : "too many parts", {});
    return true;
  }
  std::array<std::string_view, kMaxParts> views;
  for (std::size_t i = 0; i < count; ++i) views[i] = view(batch.parts[i]);
  const std::span<const std::string_view> body(views.data() + 1, count - 1);
  const std::string_view peer = views[0];

  if (body[0] == kDecisionTag || body[0] == kDecisionTagV3 || body[0] == kDecisionTagV2 ||
      body[0] == kDecisionTagV1) {
    const std::size_t index = batch.decisions.size();
    if (decode_decision_into(body, batch.next_decision())) {
      batch.acks.push_back({std::string(peer), EventKind::decision, index});
      return true;
    }
    batch.drop_last_decision();
  } else if (body[0] == kRewardTag || body[0] == kRewardTagV1) {
    if (auto reward = decode_reward(body)) {
      batch.acks.push_back({std::string(peer), EventKind::reward, batch.rewards.size()});
      batch.rewards.push_back(std::move(*reward));
      return true;
    }
  } else if (body[0] == kActivationTag) {
    if (auto event_id = decode_activation(body)) {
      batch.acks.push_back({std::string(peer), EventKind::activation, batch.activations.size()});
      batch.activations.emplace_back(*event_id);
      return true;
    }
  }
  reject("malformed or unknown frame", body[0]);
  return true;
}

void Collector::reject(std::string_view reason, std::string_view tag) {
  rejected_frames_.fetch_add(1, std::memory_order_relaxed);
  const auto now = std::chrono::steady_clock::now();
  if (now - last_rejection_line_ < std::chrono::seconds(1)) {
    ++rejections_not_logged_;
    return;
  }
  // The tag is peer-controlled bytes: at most 16 of them, as hex, in the line.
  std::string shown;
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char c : tag.substr(0, 16)) {
    shown += kHex[c >> 4];
    shown += kHex[c & 15];
  }
  options_.log.warn("rejected frame", {{"reason", std::string(reason)},
                                       {"tag_hex", shown},
                                       {"not_logged_since", std::to_string(rejections_not_logged_)}});
  last_rejection_line_ = now;
  rejections_not_logged_ = 0;
}

void Collector::commit(Batch& batch, const std::atomic<bool>& stop) {
  if (batch.size() == 0) return;
  // Durable when write() returns; only then may anything be acknowledged.
  const EventLog::WriteResult result =
      log_.write(batch.decisions, batch.rewards, batch.activations);
  std::uint64_t fresh_decisions = 0, fresh_rewards = 0, fresh_activations = 0;
  for (bool is_new : result.decision_is_new) fresh_decisions += is_new;
  for (bool is_new : result.reward_is_new) fresh_rewards += is_new;
  for (bool is_new : result.activation_is_new) fresh_activations += is_new;
  decisions_.fetch_add(fresh_decisions, std::memory_order_relaxed);
  rewards_.fetch_add(fresh_rewards, std::memory_order_relaxed);
  duplicates_.fetch_add(batch.size() - fresh_decisions - fresh_rewards - fresh_activations,
                        std::memory_order_relaxed);
  late_.fetch_add(result.late, std::memory_order_relaxed);
  activations_.fetch_add(result.activated, std::memory_order_relaxed);
  batches_.fetch_add(1, std::memory_order_relaxed);
  if (result.late > 0) {
    options_.log.info("late rewards stored, not joined", {{"count", std::to_string(result.late)}});
  }

  for (const auto& ack : batch.acks) {
    std::string_view word = kAckDecision;
    std::string_view event_id, reward_id;
    switch (ack.kind) {
      case EventKind::decision:
        event_id = batch.decisions[ack.index].decision.event_id;
        break;
      case EventKind::reward:
        word = kAckReward;
        event_id = batch.rewards[ack.index].event_id;
        reward_id = batch.rewards[ack.index].reward_id;
        break;
      case EventKind::activation:
        word = kAckActivation;
        event_id = batch.activations[ack.index];
        break;
    }
    // Never blocks: a ROUTER drops what it cannot route (the peer is gone or
    // not reading), and that peer's client will resend and be acked again.
    try {
      const auto more = zmq::send_flags::sndmore | zmq::send_flags::dontwait;
      if (!router_.send(zmq::buffer(ack.peer), more)) continue;
      router_.send(zmq::buffer(kAckTag), more);
      router_.send(zmq::buffer(word), more);
      if (reward_id.empty()) {
        router_.send(zmq::buffer(event_id), zmq::send_flags::dontwait);
      } else {
        router_.send(zmq::buffer(event_id), more);
        router_.send(zmq::buffer(reward_id), zmq::send_flags::dontwait);
      }
    } catch (const zmq::error_t& e) {
      if (!is_interrupt(e)) {
        throw Error("collector on '" + endpoint_ + "': cannot send ack: " + e.what());
      }
    }
  }
  batch.clear();
  deliver(result, stop);
}

void Collector::close_due_windows(const std::atomic<bool>& stop) {
  // A bounded transaction at a time, so a backlog of overdue windows (after a
  // long stop) does not hold the write lock for long.
  const auto limit = static_cast<std::size_t>(options_.max_batch);
  for (;;) {
    const EventLog::WriteResult result = log_.close_due(limit);
    if (result.joined.empty()) return;
    batches_.fetch_add(1, std::memory_order_relaxed);
    options_.log.debug("reward windows closed",
                       {{"joined", std::to_string(result.joined.size())},
                        {"defaulted", std::to_string(result.defaulted)}});
    deliver(result, stop);
    if (result.joined.size() < limit || stop.load()) return;
  }
}

// Counts the joins of a committed write, hands each to on_joined, and pushes
// those that may be learned from to the learner.
void Collector::deliver(const EventLog::WriteResult& result, const std::atomic<bool>& stop) {
  joined_.fetch_add(result.joined.size(), std::memory_order_relaxed);
  defaulted_.fetch_add(result.defaulted, std::memory_order_relaxed);
  std::uint64_t skipped = 0;
  for (bool skip : result.skip_learning) skipped += skip;
  skipped_learning_.fetch_add(skipped, std::memory_order_relaxed);
  if (options_.on_joined) {
    for (const auto& interaction : result.joined) options_.on_joined(interaction);
  }

  if (learner_endpoint_.empty()) return;
  for (std::size_t i = 0; i < result.joined.size(); ++i) {
    if (result.skip_learning[i]) continue;
    if (!push(result.joined[i], stop)) {
      std::uint64_t left = 0;
      for (std::size_t j = i; j < result.joined.size(); ++j) left += !result.skip_learning[j];
      undelivered_.fetch_add(left, std::memory_order_relaxed);
      return;
    }
  }
}

// Blocks until the learner socket takes the interaction, waking every
// poll_timeout_ms to check `stop`; false if `stop` came first.
bool Collector::push(const Interaction& interaction, const std::atomic<bool>& stop) {
  const Frames frames = encode_interaction(interaction);
  for (;;) {
    try {
      // Multipart messages are atomic: once the first part is queued, the rest is too.
      if (learner_.send(zmq::buffer(frames[0]), zmq::send_flags::sndmore)) break;
    } catch (const zmq::error_t& e) {
      if (!is_interrupt(e)) {
        throw Error("collector: cannot push to learner '" + learner_endpoint_ + "': " + e.what());
      }
    }
    if (stop.load()) return false;
  }
  learner_.send(zmq::buffer(frames[1]), zmq::send_flags::none);
  return true;
}

}  // namespace recloop

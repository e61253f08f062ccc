// SPDX-License-Identifier: Apache-2.0
// The vocabulary every stage of the loop shares. One word per idea:
//   probability  the logged P(action | context) of the chosen action,
//   pmf          the whole distribution over the candidates it was drawn from,
//   target / logging  the two policies of off-policy work.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Dense>

namespace recloop {

using ActionId = std::uint32_t;  // index into Context::items (0 .. size()-1)
using ItemId = std::uint64_t;    // catalogue id of an item, stable across requests
using EventId = std::string;     // unique per decision; joins a decision to its rewards

// One request: shared user features plus one feature column per candidate item.
struct Context {
  Eigen::VectorXd user;       // shared features, length user_dim
  Eigen::MatrixXd actions;    // action_dim x size(): one column per candidate, contiguous
  std::vector<ItemId> items;  // catalogue id of each candidate, same order as the columns
  std::vector<std::uint8_t> available;  // per candidate: 0 = not available for this request;
                                        // empty = all available

  std::size_t size() const { return items.size(); }
  // Length of joint_features(): user_dim + action_dim.
  int feature_dim() const { return static_cast<int>(user.size() + actions.rows()); }
};

// Writes [user; actions.col(action)] into `out` (length feature_dim()). This is
// the feature vector the linear policies and reward models regress on.
void joint_features(const Context& context, ActionId action, Eigen::Ref<Eigen::VectorXd> out);

// What a policy answers: the chosen action with the probability it was drawn with.
struct Decision {
  EventId event_id;
  ActionId action = 0;
  ItemId item = 0;              // context.items[action]
  double probability = 0.0;     // pmf[action]: P(action | context) under the deciding policy
  std::vector<double> pmf;      // the whole distribution the action was drawn from
  std::string policy;           // registry name of the deciding policy
  std::uint64_t model_version = 0;  // number of updates the model had seen
  std::uint32_t slot = 0;       // position of the item in a ranking: 0 = first (or only) slot
  // P(action at `slot` | the items at slots 0 .. slot-1 as shown): the factor
  // this slot contributes to the whole ranking's probability (policies/ranker.h),
  // where `probability` is the slot's marginal. At slot 0 the two are equal, so
  // for a single-slot decision conditional == probability. 0 = not recorded:
  // decisions made by Policy::choose (single-slot; readers use `probability`,
  // see logged_conditional()), frames before wire version 3, logs before
  // schema version 3, imported logs. Otherwise in (0, 1].
  double conditional = 0.0;
  // The user session this decision belongs to and its index in it (0 = the
  // session's first request), so a log can be read back as trajectories
  // (core/trajectory.h). Empty session = not part of a session (step is 0).
  std::string session;
  std::uint32_t step = 0;
  // Logged and joined, but never passed to a learner (the application's
  // "skip learning" for traffic that must not train the model).
  bool skip_learning = false;
  // Deferred activation: the decision is logged now, but its reward window
  // opens (and it can be joined, defaulted or learned from) only when the
  // application activates its event id; a decision never activated is never
  // joined.
  bool deferred = false;
};

// A reward for a decision, as the application reports it.
struct Reward {
  EventId event_id;
  double value = 0.0;
  std::int64_t timestamp_us = 0;  // microseconds since the Unix epoch (or simulated time)
  // Distinguishes several rewards reported for one event (they are aggregated
  // within the reward window); resends of one reward carry the same id. Empty:
  // at most one reward per event id, identified by the event id alone.
  std::string reward_id;
};

// A decision as it travels to the collector and is stored: the decision, the
// context it was made in and, when a simulator made the request, the exact
// expected reward of every candidate (the ground truth; empty for live traffic).
struct LoggedDecision {
  Decision decision;
  Context context;
  std::vector<double> truth;      // E[reward | context, a] for each candidate, or empty
  std::int64_t timestamp_us = 0;
};

// A decision joined to its reward: what learners and estimators consume.
struct Interaction {
  EventId event_id;
  Context context;
  ActionId action = 0;
  double probability = 0.0;       // the *logging* policy's P(action | context), > 0
  double reward = 0.0;
  std::vector<double> truth;      // as in LoggedDecision; empty when unknown
  std::string policy;             // the logging policy's name
  std::uint32_t slot = 0;         // as Decision::slot: where the chosen item was shown
  double conditional = 0.0;       // as Decision::conditional; 0 = not recorded
  std::string session;            // as Decision::session; empty = not part of a session
  std::uint32_t step = 0;         // as Decision::step
};

// The logged conditional probability of a decision at `slot`: `conditional`
// when recorded (> 0), else `probability` at slot 0 (where the conditional and
// the marginal coincide), else 0 = unknown (a later slot of a ranking logged
// without its conditionals, which whole-ranking estimators cannot use).
inline double logged_conditional(std::uint32_t slot, double probability, double conditional) {
  if (conditional > 0.0) return conditional;
  return slot == 0 ? probability : 0.0;
}

}  // namespace recloop

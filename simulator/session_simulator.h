// SPDX-License-Identifier: Apache-2.0
// The multi-step Simulator seam: a world in which one user makes a session of
// several requests, and what is shown at one request changes the next (the
// environment shape of mlpack's reinforcement-learning module: reset, then
// step until done).
//
//   Context c = world.reset(rng);              // the session's first request
//   while (true) {
//     Transition t = world.step(c, action, rng);
//     if (t.done) break;
//     c = std::move(t.next);
//   }
//
// A session is identified by a 64-bit index: begin(session) starts session
// `session`, and everything the world draws in it (the user, the candidates,
// the outcomes, the user's changes of mind) comes from counter-based streams
// seeded by (world seed, session, step), never from the order sessions are run
// in. So two policies run on the same session index meet the same user with
// the same exogenous noise (common random numbers; session_value.h), and
// reset(rng) is begin() with a session index drawn from rng.
//
// expected_reward(context, action) is the exact E[reward | current state,
// action] of the request now being served (context must be the one the world
// last returned); summed along a trajectory it gives the session's exact
// expected return given the states visited.
// Not thread-safe: a world holds the state of one session at a time.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/rng.h"
#include "core/types.h"

namespace recloop {

// One step of a session. `next` is the following request; when `done`, it
// holds the state features after the step and no candidates.
struct Transition {
  double reward = 0.0;
  Context next;
  bool done = false;
};

// How a finished session ended.
struct SessionOutcome {
  std::uint64_t steps = 0;            // requests served
  double return_days = 0.0;           // drawn time until the user's next session
  double expected_return_days = 0.0;  // its exact expectation given the session's end state
};

class SessionSimulator {
 public:
  virtual ~SessionSimulator() = default;

  // Starts session `session` and returns its first request.
  virtual Context begin(std::uint64_t session) = 0;
  // Starts a session whose index is the next output of rng.
  Context reset(Rng& rng) { return begin(rng()); }

  // Shows candidate `action` of `context` (the current request) and moves
  // the session on. Throws std::invalid_argument for a context that is not
  // the current request, an action out of range, or a finished session.
  virtual Transition step(const Context& context, ActionId action, Rng& rng) = 0;

  // E[reward | current state, action], exact.
  virtual double expected_reward(const Context& context, ActionId action) const = 0;

  // The outcome of the session just finished (after step() returned done).
  virtual SessionOutcome outcome() const = 0;

  // context.feature_dim() of every context this world produces.
  virtual int feature_dim() const = 0;
  virtual std::string_view name() const = 0;
};

}  // namespace recloop

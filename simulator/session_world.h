// SPDX-License-Identifier: Apache-2.0
// Sessions of the population world (population_world.h): one user, several
// requests, one item shown per request, and a user whose interest, fatigue
// and satisfaction change with what is shown, who may leave after any
// request, and who comes back after a time that depends on how the session
// went. The SessionSimulator seam (session_simulator.h).
//
// Users, items and the choice model are the population world's (its keys and
// seed); a session draws its user uniformly from the population. Each item
// also has a clickbait score c_i in [0, 1]: 0 with probability
// 1 - clickbait_share, else uniform on (0, 1]; a function of (seed, id).
//
// State at step t (t = 0 first): the user's latent preference z_t (z_0 the
// population member's z_u plus the across-session drift w(i) below), a
// fatigue F_t[k] per category (F_0 = 0), a satisfaction s_t (s_0 =
// satisfaction_initial), counts of clicks and skips.
//
// Logit of candidate i with vector v_i, category k_i, offset o_i (the
// population world's b_i + popularity_weight log(n p_i)):
//   x_t(i) = z_t . v_i + o_i + clickbait_boost c_i - fatigue_weight F_t[k_i],
// click probability p_t(i) = the choice model's one-slot P(click) (sigmoid(x),
// mnl: sigmoid(x - u0)), reward as in the population world (reward_click,
// dwell and purchase weights) with E[r] = p_t(i) g(x_t(i)): exact.
//
// Showing item a (category k) with click indicator y in {0, 1}:
//   fatigue       F_{t+1}[j] = fatigue_decay F_t[j] + [j = k] (1 + clickbait_fatigue c_a);
//   satisfaction  s_{t+1} = s_t + y (satisfaction_click - satisfaction_clickbait c_a)
//                           - (1 - y) satisfaction_skip - satisfaction_fatigue F_t[k];
//   interest      z_{t+1} = z_t + y consume_rate (v_a - z_t) + drift_sd e_t,  e_t ~ N(0, I);
//   leaving       the session ends after the step with probability
//                 sigmoid(leave_bias - leave_slope s_{t+1}), and always after
//                 max_steps steps (key session_max_steps).
// Drift across sessions: session i starts from
//   z_0 = z_u + w(i),   w(0) = 0,  w(i) = w(i-1) + population_drift_sd e'_i,
// e'_i ~ N(0, I) a function of (seed, i) only: one random walk over the
// session index, shared by every user (a trend of the whole population's
// taste), so w(i) ~ N(0, i population_drift_sd^2 I) per coordinate and its
// steps are independent. w(i) is a sum over the counters 1..i, never a result
// of earlier sessions; a world keeps its last w and extends it when sessions
// are begun in increasing order (O(1) each), else sums again from 0 (O(i)),
// adding in the same order, so both ways give the same bits. Within a session
// z then moves as below; nothing else carries over. population_drift_sd = 0
// (default): every session starts from z_u.
//
// With drift_sd = consume_rate = fatigue_weight = clickbait_boost = 0 and
// leave_slope = 0 every dynamic is off: each step is an independent request
// and the session length is geometric with P(leave) = sigmoid(leave_bias).
//
// Return: after a session that ended with satisfaction s, the user's next
// session starts after an exponential time with mean
//   return_mean_days exp(-return_slope s)  (days),
// drawn by inversion and reported with its expectation (SessionOutcome).
//
// Clickbait. An item with c > 0 is more attractive now (clickbait_boost), but
// tires its category more (clickbait_fatigue) and, when clicked, disappoints
// (satisfaction_clickbait): a policy that maximises the immediate click
// probability ends sessions sooner than one that avoids clickbait.
//
// What the policy sees (Context):
//   user     [0, user_obs_dim)           the population features y (fixed:
//                                        drift of z is not observed);
//            then n_categories rows      fatigue F_t per category;
//            then 1 row                  step index t;
//            then 1 row                  clicks so far; then 1 row skips so far.
//   actions  the population world's rows (log popularity, observed item
//            vector, one-hot category), then 1 row: the clickbait score c_i.
//   items    the item ids.
// Satisfaction and z_t are hidden state (state() shows them, for tests).
//
// Randomness: session `session` has seed stream_seed(sessions seed, session);
// step t's candidates, outcome uniforms (click, dwell, purchase), drift
// normals and leave uniform come from four streams of stream_seed(that seed,
// t), each of fixed length, and the user and the return time from two more:
// the same for every policy whatever it shows; the across-session drift w(i)
// comes from stream_seed(stream_seed(seed, 13), i). Candidates of step t are the
// population world's request t (its catalogue clock is the step index). The
// Rng passed to step() is not used.
// Not thread-safe: a world holds one session's state; use one world per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include <Eigen/Dense>

#include "core/config.h"
#include "simulator/population_world.h"
#include "simulator/session_simulator.h"

namespace recloop {

class SessionWorld final : public SessionSimulator {
 public:
  struct Config {
    PopulationWorld::Config population;  // every population key
    std::int64_t max_steps = 50;         // key session_max_steps, [1, 1e6]
    double drift_sd = 0.0;               // sd per step and coordinate of z's random walk, [0, 10]
    double population_drift_sd = 0.0;    // sd per session and coordinate of w's walk, [0, 10]
    double consume_rate = 0.1;           // pull of z towards a clicked item, [0, 1]
    double fatigue_weight = 0.5;         // logit penalty per unit fatigue, [0, 20]
    double fatigue_decay = 0.7;          // per-step decay of fatigue, [0, 1]
    double clickbait_share = 0.1;        // share of items with c > 0, [0, 1]
    double clickbait_boost = 2.0;        // logit boost per unit clickbait, [0, 20]
    double clickbait_fatigue = 1.0;      // extra fatigue per unit clickbait shown, [0, 20]
    double satisfaction_initial = 0.0;   // s_0, [-100, 100]
    double satisfaction_click = 1.0;     // rise per click, [0, 100]
    double satisfaction_skip = 0.2;      // fall per item shown and not clicked, [0, 100]
    double satisfaction_fatigue = 0.1;   // fall per unit fatigue of the shown category, [0, 100]
    double satisfaction_clickbait = 1.5; // fall per unit clickbait clicked, [0, 100]
    double leave_bias = -2.0;            // logit of leaving at satisfaction 0, [-20, 20]
    double leave_slope = 0.5;            // fall of that logit per unit satisfaction, [0, 20]
    double return_mean_days = 3.0;       // mean days to the next session at s = 0, (0, 1e4]
    double return_slope = 0.3;           // fall of log mean return time per unit s, [0, 10]
    bool operator==(const Config&) const = default;
    // Reads the population keys and the session keys above; throws
    // ConfigError naming the key, its value and range.
    static Config from(ConfigSection& section);
  };

  // The hidden and observed state of the current session.
  struct State {
    std::uint64_t session = 0;
    std::uint64_t step = 0;       // requests served so far
    std::uint32_t user = 0;       // population member
    Eigen::VectorXd latent;       // z_t
    Eigen::VectorXd fatigue;      // F_t, one per category
    double satisfaction = 0.0;    // s_t
    std::uint64_t clicks = 0;
    std::uint64_t skips = 0;
    bool done = true;             // no session started, or the session has ended
  };

  explicit SessionWorld(const Config& config);

  // --- SessionSimulator seam ---
  Context begin(std::uint64_t session) override;
  Transition step(const Context& context, ActionId action, Rng& rng) override;
  double expected_reward(const Context& context, ActionId action) const override;
  SessionOutcome outcome() const override;
  int feature_dim() const override;
  std::string_view name() const override { return "session"; }

  // --- Ground truth of the current request ---
  // x_t(action) and p_t(action) of the header.
  double logit(ActionId action) const;
  double click_probability(ActionId action) const;
  // Clickbait score c_i of item `id`.
  double clickbait(ItemId id) const;
  // Across-session drift w(session) of the header, shared by every user.
  const Eigen::VectorXd& population_drift(std::uint64_t session) const;
  const State& state() const { return state_; }

  // Rows of the user features (header layout).
  Eigen::Index fatigue_row() const { return config_.population.user_obs_dim; }
  Eigen::Index step_row() const { return fatigue_row() + config_.population.n_categories; }
  Eigen::Index clicks_row() const { return step_row() + 1; }
  Eigen::Index skips_row() const { return step_row() + 2; }
  Eigen::Index user_rows() const { return step_row() + 3; }
  // Row of the clickbait score in a candidate's feature column.
  Eigen::Index clickbait_row() const {
    return 1 + config_.population.latent_dim + config_.population.n_categories;
  }

  const Config& config() const { return config_; }
  const PopulationWorld& population() const { return population_; }

 private:
  struct Candidate {
    Eigen::VectorXd latent;
    std::uint32_t category = 0;
    double offset = 0.0;
    double clickbait = 0.0;
  };
  std::uint64_t step_seed(std::uint64_t step) const;
  // Draws step state_.step's candidates into current_ and candidates_.
  void draw_candidates();
  void write_user_features(Eigen::VectorXd& out) const;
  void check_current(const Context& context, ActionId action, const char* what) const;

  Config config_;
  PopulationWorld population_;
  std::uint64_t sessions_seed_ = 0;
  std::uint64_t clickbait_seed_ = 0;
  std::uint64_t population_drift_seed_ = 0;
  // Cache of population_drift(): w(drift_session_).
  mutable std::uint64_t drift_session_ = 0;
  mutable Eigen::VectorXd drift_;
  std::unique_ptr<PopulationWorld::Worker> worker_;
  PopulationWorld::Request request_;
  State state_;
  std::uint64_t session_seed_ = 0;
  Context current_;
  std::vector<Candidate> candidates_;
  SessionOutcome outcome_;
};

}  // namespace recloop

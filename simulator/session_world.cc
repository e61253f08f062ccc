// SPDX-License-Identifier: Apache-2.0
#include "simulator/session_world.h"

#include <array>
#include <cmath>
#include <stdexcept>
#include <string>

#include "core/error.h"
#include "core/rng.h"
#include "simulator/choice_model.h"
#include "simulator/counter_rng.h"

namespace recloop {
namespace {

// Sub-streams of a step's seed (header: "Randomness").
constexpr std::uint64_t kCandidateStream = 0;
constexpr std::uint64_t kOutcomeStream = 1;
constexpr std::uint64_t kDriftStream = 2;
constexpr std::uint64_t kLeaveStream = 3;
// Streams of a session's seed that are not steps (steps are < 2^62).
constexpr std::uint64_t kUserStream = ~std::uint64_t{0};
constexpr std::uint64_t kReturnStream = ~std::uint64_t{0} - 1;

}  // namespace

SessionWorld::Config SessionWorld::Config::from(ConfigSection& section) {
  Config c;
  c.population = PopulationWorld::Config::from(section);
  c.max_steps = section.get_int("session_max_steps", c.max_steps, 1, 1'000'000,
                                "requests after which a session always ends");
  c.drift_sd = section.get_double("drift_sd", c.drift_sd, 0.0, 10.0,
                                  "sd per step and coordinate of the random walk of z (0: off)");
  c.population_drift_sd =
      section.get_double("population_drift_sd", c.population_drift_sd, 0.0, 10.0,
                         "sd per session and coordinate of the random walk, shared by every "
                         "user, of the interest a session starts from (0: off)");
  c.consume_rate = section.get_double("consume_rate", c.consume_rate, 0.0, 1.0,
                                      "z <- z + rate (v - z) after a click on v (0: off)");
  c.fatigue_weight = section.get_double("fatigue_weight", c.fatigue_weight, 0.0, 20.0,
                                        "logit penalty per unit fatigue of a category (0: off)");
  c.fatigue_decay = section.get_double("fatigue_decay", c.fatigue_decay, 0.0, 1.0,
                                       "factor by which fatigue decays per step");
  c.clickbait_share = section.get_double("clickbait_share", c.clickbait_share, 0.0, 1.0,
                                         "share of items with a clickbait score > 0");
  c.clickbait_boost = section.get_double("clickbait_boost", c.clickbait_boost, 0.0, 20.0,
                                         "logit boost per unit clickbait score");
  c.clickbait_fatigue = section.get_double("clickbait_fatigue", c.clickbait_fatigue, 0.0, 20.0,
                                           "extra fatigue per unit clickbait shown");
  c.satisfaction_initial = section.get_double("satisfaction_initial", c.satisfaction_initial,
                                              -100.0, 100.0, "satisfaction at a session's start");
  c.satisfaction_click = section.get_double("satisfaction_click", c.satisfaction_click, 0.0,
                                            100.0, "rise of satisfaction per click");
  c.satisfaction_skip = section.get_double("satisfaction_skip", c.satisfaction_skip, 0.0, 100.0,
                                           "fall of satisfaction per item shown and not clicked");
  c.satisfaction_fatigue =
      section.get_double("satisfaction_fatigue", c.satisfaction_fatigue, 0.0, 100.0,
                         "fall of satisfaction per unit fatigue of the shown category");
  c.satisfaction_clickbait =
      section.get_double("satisfaction_clickbait", c.satisfaction_clickbait, 0.0, 100.0,
                         "fall of satisfaction per unit clickbait score clicked");
  c.leave_bias = section.get_double("leave_bias", c.leave_bias, -20.0, 20.0,
                                    "logit of leaving after a step at satisfaction 0");
  c.leave_slope = section.get_double("leave_slope", c.leave_slope, 0.0, 20.0,
                                     "fall of the leaving logit per unit satisfaction (0: off)");
  c.return_mean_days = section.get_double("return_mean_days", c.return_mean_days, 0.0, 1e4,
                                          "mean days until the next session at satisfaction 0",
                                          /*min_exclusive=*/true);
  c.return_slope = section.get_double("return_slope", c.return_slope, 0.0, 10.0,
                                      "fall of the log mean return time per unit satisfaction");
  return c;
}

SessionWorld::SessionWorld(const Config& config) : config_(config), population_(config.population) {
  const auto& c = config_;
  if (c.max_steps < 1 || !(c.drift_sd >= 0.0) || !(c.population_drift_sd >= 0.0) ||
      !(c.consume_rate >= 0.0 && c.consume_rate <= 1.0) ||
      !(c.fatigue_weight >= 0.0) || !(c.fatigue_decay >= 0.0 && c.fatigue_decay <= 1.0) ||
      !(c.clickbait_share >= 0.0 && c.clickbait_share <= 1.0) || !(c.clickbait_boost >= 0.0) ||
      !(c.clickbait_fatigue >= 0.0) || !(c.satisfaction_click >= 0.0) ||
      !(c.satisfaction_skip >= 0.0) || !(c.satisfaction_fatigue >= 0.0) ||
      !(c.satisfaction_clickbait >= 0.0) || !(c.leave_slope >= 0.0) ||
      !(c.return_mean_days > 0.0) || !(c.return_slope >= 0.0)) {
    throw std::invalid_argument("SessionWorld: invalid config (max_steps " +
                                std::to_string(c.max_steps) + ", consume_rate " +
                                std::to_string(c.consume_rate) + ", fatigue_decay " +
                                std::to_string(c.fatigue_decay) + ")");
  }
  sessions_seed_ = stream_seed(c.population.seed, 11);
  clickbait_seed_ = stream_seed(c.population.seed, 12);
  population_drift_seed_ = stream_seed(c.population.seed, 13);
  drift_ = Eigen::VectorXd::Zero(c.population.latent_dim);
  worker_ = std::make_unique<PopulationWorld::Worker>(population_);
}

double SessionWorld::clickbait(ItemId id) const {
  CounterRng g(stream_seed(clickbait_seed_, id));
  if (!(g.uniform01() < config_.clickbait_share)) return 0.0;
  return 1.0 - g.uniform01();  // uniform on (0, 1]
}

const Eigen::VectorXd& SessionWorld::population_drift(std::uint64_t session) const {
  // w(i) = w(i-1) + sd e'_i (header): extend the cached w, or sum again from
  // w(0) = 0 for an earlier session; the additions run in the same order.
  if (session < drift_session_) {
    drift_.setZero();
    drift_session_ = 0;
  }
  const double sd = config_.population_drift_sd;
  for (; drift_session_ < session; ++drift_session_) {
    CounterRng e(stream_seed(population_drift_seed_, drift_session_ + 1));
    for (Eigen::Index j = 0; j < drift_.size(); ++j) drift_[j] += sd * e.normal();
  }
  return drift_;
}

std::uint64_t SessionWorld::step_seed(std::uint64_t step) const {
  return stream_seed(session_seed_, step);
}

void SessionWorld::write_user_features(Eigen::VectorXd& out) const {
  const auto& p = config_.population;
  out.resize(user_rows());
  out.head(p.user_obs_dim) = population_.user_features(state_.user);
  out.segment(fatigue_row(), p.n_categories) = state_.fatigue;
  out[step_row()] = static_cast<double>(state_.step);
  out[clicks_row()] = static_cast<double>(state_.clicks);
  out[skips_row()] = static_cast<double>(state_.skips);
}

void SessionWorld::draw_candidates() {
  CounterRng rng(stream_seed(step_seed(state_.step), kCandidateStream));
  // The population request's own user draw is ignored: the session's user is fixed.
  worker_->draw(state_.step, rng, request_);
  const auto& features = request_.context.actions;
  const auto m = features.cols();
  current_.actions.resize(clickbait_row() + 1, m);
  current_.actions.topRows(features.rows()) = features;
  current_.items = request_.context.items;
  current_.available.clear();
  candidates_.resize(static_cast<std::size_t>(m));
  for (Eigen::Index i = 0; i < m; ++i) {
    const ItemId id = current_.items[static_cast<std::size_t>(i)];
    auto truth = population_.item_truth(id);
    auto& candidate = candidates_[static_cast<std::size_t>(i)];
    candidate.latent = std::move(truth.latent);
    candidate.category = truth.category;
    candidate.offset = truth.offset;
    candidate.clickbait = clickbait(id);
    current_.actions(clickbait_row(), i) = candidate.clickbait;
  }
  write_user_features(current_.user);
}

Context SessionWorld::begin(std::uint64_t session) {
  const auto& p = config_.population;
  session_seed_ = stream_seed(sessions_seed_, session);
  CounterRng user_rng(stream_seed(session_seed_, kUserStream));
  state_ = State{};
  state_.session = session;
  state_.user = static_cast<std::uint32_t>(user_rng.index(static_cast<std::uint64_t>(p.n_users)));
  state_.latent = population_.user_latent(state_.user);
  if (config_.population_drift_sd > 0.0) state_.latent += population_drift(session);
  state_.fatigue = Eigen::VectorXd::Zero(p.n_categories);
  state_.satisfaction = config_.satisfaction_initial;
  state_.done = false;
  outcome_ = SessionOutcome{};
  draw_candidates();
  return current_;
}

void SessionWorld::check_current(const Context& context, ActionId action, const char* what) const {
  if (state_.done) {
    throw std::invalid_argument(std::string("session world: ") + what +
                                " with no session in progress (call begin or reset)");
  }
  if (context.items != current_.items || context.user != current_.user) {
    throw std::invalid_argument(std::string("session world: ") + what +
                                " for a context that is not the current request (step " +
                                std::to_string(state_.step) + " of session " +
                                std::to_string(state_.session) + ")");
  }
  if (action >= current_.size()) {
    throw std::invalid_argument(std::string("session world: ") + what + " for candidate " +
                                std::to_string(action) + " of " +
                                std::to_string(current_.size()));
  }
}

double SessionWorld::logit(ActionId action) const {
  const auto& candidate = candidates_.at(action);
  return state_.latent.dot(candidate.latent) + candidate.offset +
         config_.clickbait_boost * candidate.clickbait -
         config_.fatigue_weight * state_.fatigue[candidate.category];
}

double SessionWorld::click_probability(ActionId action) const {
  const std::array<double, 1> logits{logit(action)};
  std::array<double, 2> probabilities{};
  population_.choice_model().probabilities(logits, probabilities);
  return probabilities[0];
}

double SessionWorld::expected_reward(const Context& context, ActionId action) const {
  check_current(context, action, "expected_reward");
  return click_probability(action) * population_.reward_given_click(logit(action));
}

Transition SessionWorld::step(const Context& context, ActionId action, Rng& /*rng*/) {
  check_current(context, action, "step");
  const auto& c = config_;
  const auto& p = c.population;
  const Candidate& shown = candidates_[action];
  const double x = logit(action);
  const double probability = click_probability(action);
  const std::uint64_t seed = step_seed(state_.step);

  // Outcome: three uniforms, always drawn (click; dwell and purchase given a
  // click), as population_world.cc draws a one-slot outcome: a single slot
  // is clicked iff u < P(click) under every choice model.
  CounterRng outcome(stream_seed(seed, kOutcomeStream));
  const double u_click = outcome.uniform01();
  const double u_dwell = outcome.uniform01();
  const double u_purchase = outcome.uniform01();
  const bool click = u_click < probability;
  double reward = 0.0;
  if (click) {
    const double a = attractiveness(x);
    reward = p.reward_click;
    if (p.reward_dwell != 0.0) {
      reward += p.reward_dwell * (-p.dwell_mean_s * (0.5 + a) * std::log(1.0 - u_dwell));
    }
    if (p.reward_purchase != 0.0 && u_purchase < p.purchase_rate * a) reward += p.reward_purchase;
  }

  // Satisfaction reads the fatigue of the shown category before this step adds to it.
  const double fatigue_shown = state_.fatigue[shown.category];
  state_.satisfaction += click ? c.satisfaction_click - c.satisfaction_clickbait * shown.clickbait
                               : -c.satisfaction_skip;
  state_.satisfaction -= c.satisfaction_fatigue * fatigue_shown;
  state_.fatigue *= c.fatigue_decay;
  state_.fatigue[shown.category] += 1.0 + c.clickbait_fatigue * shown.clickbait;
  if (click) state_.latent += c.consume_rate * (shown.latent - state_.latent);
  if (c.drift_sd > 0.0) {
    CounterRng drift(stream_seed(seed, kDriftStream));
    for (Eigen::Index j = 0; j < state_.latent.size(); ++j) {
      state_.latent[j] += c.drift_sd * drift.normal();
    }
  }
  ++(click ? state_.clicks : state_.skips);
  ++state_.step;

  const double leave = attractiveness(c.leave_bias - c.leave_slope * state_.satisfaction);
  const bool left = CounterRng(stream_seed(seed, kLeaveStream)).uniform01() < leave;
  Transition transition;
  transition.reward = reward;
  transition.done = left || state_.step >= static_cast<std::uint64_t>(c.max_steps);
  if (transition.done) {
    state_.done = true;
    outcome_.steps = state_.step;
    outcome_.expected_return_days = c.return_mean_days * std::exp(-c.return_slope * state_.satisfaction);
    const double u = CounterRng(stream_seed(session_seed_, kReturnStream)).uniform01();
    outcome_.return_days = -outcome_.expected_return_days * std::log(1.0 - u);
    write_user_features(transition.next.user);
    transition.next.actions.resize(clickbait_row() + 1, 0);
    current_ = Context{};
  } else {
    draw_candidates();
    transition.next = current_;
  }
  return transition;
}

SessionOutcome SessionWorld::outcome() const {
  if (!state_.done || outcome_.steps == 0) {
    throw std::logic_error("session world: outcome() before the session has ended");
  }
  return outcome_;
}

int SessionWorld::feature_dim() const {
  return static_cast<int>(user_rows() + clickbait_row() + 1);
}

}  // namespace recloop

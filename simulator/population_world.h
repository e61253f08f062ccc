// SPDX-License-Identifier: Apache-2.0
// A population of users and a changing catalogue of items, with a choice
// model for slates (choice_model.h) and optional non-click signals.
//
// Users. A fixed population of n_users users, each drawn once from a mixture
// of user_types Gaussian types: type t with probability w_t, latent
// preference z ~ N(mu_t, s_t^2 I) in latent_dim dimensions (means given, or
// drawn N(0, user_type_mean_scale^2 I); a single type without given means has
// mu = 0, so z ~ N(0, s^2 I)). The policy never
// sees z: it sees y = W z + noise, noise ~ N(0, user_obs_noise^2 I), with W
// (user_obs_dim x latent_dim) the identity (truncated or zero-padded) plus
// user_view_distortion * G / sqrt(latent_dim), G standard normal. y is drawn
// once per user, so a returning user shows the same features. Each request
// draws a user uniformly from the population.
//
// Items. Item vectors v = (signal / sqrt(latent_dim)) (sqrt(rho) c_cat +
// sqrt(1 - rho) e), c_cat the centre of the item's category (one of
// n_categories, uniform), e ~ N(0, I), rho = category_share; so z.v has
// standard deviation `signal` for z ~ N(0, I). Biases b ~ N(bias_mean,
// bias_sd^2). The policy sees v + N(0, item_obs_noise^2 I).
// Popularity is Zipf: the catalogue has n_items slots and the item in slot s
// has popularity share p_s = (s + 1)^-alpha / H, H = sum_j (j + 1)^-alpha,
// alpha = zipf_exponent.
//
// Arrival and expiry. With item_lifetime = T > 0 every item lives T requests:
// slot s hosts items id = g * n_items + s for generations g = 0, 1, ...,
// item g of slot s live for request indices [g T - o_s, (g + 1) T - o_s),
// o_s = floor(s T / n_items) (staggered, so about n_items / T items arrive per
// request and n_items are always live). An arriving item takes the slot's
// popularity rank; everything else about it is new (item_interval()). T = 0:
// the first generation never expires. An item's attributes depend only on
// (seed, item id), so any item can be scored exactly at any time.
//
// Requests. Each request offers `candidates` distinct live items, drawn
// uniformly or with probability proportional to popularity (successive
// sampling without replacement: draws ~ p_s, repeats rejected; should that
// stall, after 64 * candidates + 1024 draws the rest are filled uniformly).
//
// Attractiveness: the logit of user u for item i is
//   x_ui = z_u . v_i + b_i + popularity_weight * log(n_items p_i),
// and a_ui = sigmoid(x_ui); the choice model turns the logits of a slate into
// click probabilities (choice_model.h).
//
// Non-click signals, given a click on item i by user u: dwell time (seconds)
// ~ Exponential with mean dwell_mean_s * (0.5 + a_ui), and a purchase with
// probability purchase_rate * a_ui (independent of the dwell). The reward of
// a slot is
//   r = click * (reward_click + reward_dwell * dwell + reward_purchase * purchase),
// so E[r_k] = P(click k) g_ui with g_ui = reward_click + reward_dwell
// dwell_mean_s (0.5 + a_ui) + reward_purchase purchase_rate a_ui: exact.
// With reward_dwell = reward_purchase = 0 (the default) a single-slot reward
// is one engine output, like linear_click's.
//
// What the policy sees (Context):
//   user         y, length user_obs_dim;
//   actions      per candidate, rows: [0] log p_i (kLogPopularityRow, the
//                natural log of the popularity share), [1, 1 + latent_dim)
//                the observed item vector, then n_categories rows holding
//                the one-hot category;
//   items        the item ids.
// expected_reward() and the slate methods identify the user from the user
// features (exact match against the population; throws
// std::invalid_argument for a context this world did not make).
//
// Randomness. The population and catalogue are fixed by `seed`. A Worker
// draws request r from CounterRng(request_seed(r)) alone (counter_rng.h), so
// batches give identical results for any thread count (batch_run.h). The
// Simulator seam's next_context(rng) takes one engine output as the request's
// seed and serves the request at the world's clock, which advances by one per
// call (only item arrival and expiry depend on it; set_clock() rewinds).
//
// Thread safety: a constructed world is immutable except through the
// Simulator seam (next_context, draw_*), which is not thread-safe. Any number
// of Workers, one per thread, may draw from one world concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <Eigen/Dense>

#include "core/config.h"
#include "simulator/choice_model.h"
#include "simulator/counter_rng.h"
#include "simulator/slate_simulator.h"

namespace recloop {

class PopulationWorld final : public SlateSimulator {
 public:
  static constexpr int kLogPopularityRow = 0;
  static constexpr int kFirstItemVectorRow = 1;

  struct Config {
    std::int64_t n_items = 1000;       // live catalogue size (slots), [2, 1e6]
    std::int64_t candidates = 10;      // items offered per request, [1, n_items]
    bool popularity_candidates = false;  // candidates drawn ~ popularity (else uniform)
    std::int64_t latent_dim = 6;       // length of z and v, [1, 256]
    double signal = 2.0;               // sd of z.v for a standard user, [0, 10]
    double bias_mean = -1.5;           // mean item bias (logit), [-10, 10]
    double bias_sd = 0.5;              // sd of item biases, [0, 10]
    double zipf_exponent = 1.0;        // alpha of the popularity shares, [0, 5]
    double popularity_weight = 0.3;    // weight of log(n_items p_i) in the logit, [-5, 5]
    std::int64_t n_categories = 4;     // [1, 1000]
    double category_share = 0.5;       // rho, item variance shared in a category, [0, 1]
    std::int64_t item_lifetime = 0;    // requests an item lives, 0 = forever, [0, 1e9]
    std::int64_t n_users = 10000;      // population size, [1, 1e6]
    std::vector<double> type_weights{1.0};  // one per user type, >= 0, positive sum
    std::vector<double> type_means;    // user_types x latent_dim, row by type; empty = drawn
    double type_mean_scale = 1.0;      // sd of drawn type means (key user_type_mean_scale), [0, 10]
    std::vector<double> type_spreads;  // s_t per type, >= 0; empty = all 1
    std::int64_t user_obs_dim = 6;     // length of y, [1, 256]
    double user_view_distortion = 0.0; // [0, 10]
    double user_obs_noise = 0.5;       // [0, 10]
    double item_obs_noise = 0.0;       // [0, 10]
    ChoiceModel::Config choice{};      // choice model, position decay, no-click utility
    double reward_click = 1.0;         // [-100, 100]
    double reward_dwell = 0.0;         // per second of dwell, [-100, 100]
    double reward_purchase = 0.0;      // [-1e4, 1e4]
    double dwell_mean_s = 30.0;        // (0, 1e5]
    double purchase_rate = 0.1;        // [0, 1]
    std::uint64_t seed = 1;
    bool operator==(const Config&) const = default;
    // Reads every key above (see registry world "population"); throws
    // ConfigError naming the key, its value and range.
    static Config from(ConfigSection& section);
  };

  // One request as a Worker draws it. Buffers are reused between draws.
  struct Request {
    std::uint64_t index = 0;          // request index (the clock)
    std::uint32_t user = 0;           // index into the population
    Context context;                  // what the policy sees
    std::vector<double> logits;       // x_ui per candidate, exact
    std::vector<std::uint32_t> slots; // catalogue slot of each candidate
  };

  // Per-thread drawing state: a cache of the live item of every slot and the
  // scratch for candidate sampling. Never allocates per request once the
  // Request's buffers have their size. Reads the world, never writes it.
  class Worker {
   public:
    explicit Worker(const PopulationWorld& world);
    // Draws request `index` with `rng` (the request's stream; the caller may
    // keep drawing its outcome from the same stream).
    void draw(std::uint64_t index, CounterRng& rng, Request& out);
    // Draws request `index` from its own stream CounterRng(world.request_seed(index));
    // returns that stream, positioned after the request's draws.
    CounterRng draw(std::uint64_t index, Request& out);

   private:
    friend class PopulationWorld;
    void refresh(std::uint32_t slot, std::uint64_t index);
    const PopulationWorld* world_;
    std::vector<ItemId> ids_;          // live item id cached per slot
    std::vector<double> records_;      // per slot, record_stride() doubles (write_item_record)
    std::vector<std::uint64_t> stamp_; // last draw that used each slot
    std::uint64_t draws_ = 0;
  };

  // Per-slate outcome buffers for Worker-drawn requests.
  struct SlateOutcome {
    std::vector<double> probabilities;  // L + 1 (choice_model.h)
    std::vector<std::uint8_t> clicks;   // L
    std::vector<double> rewards;        // L
  };

  explicit PopulationWorld(const Config& config);

  // --- Simulator seam (single slot) ---
  Context next_context(Rng& rng) override;
  double draw_reward(const Context& context, ActionId action, Rng& rng) override;
  double expected_reward(const Context& context, ActionId action) const override;
  int feature_dim() const override;
  std::string_view name() const override { return "population"; }

  // --- Slates ---
  std::size_t max_slots() const override;
  void click_probabilities(const Context& context, std::span<const ActionId> slate,
                           std::span<double> out) const override;
  void expected_slot_rewards(const Context& context, std::span<const ActionId> slate,
                             std::span<double> out) const override;
  void draw_slate_rewards(const Context& context, std::span<const ActionId> slate, Rng& rng,
                          std::span<double> out) override;
  std::optional<double> value_from_marginals(const Context& context,
                                             const Eigen::MatrixXd& marginals) const override;

  // --- Fast path on Worker-drawn requests (thread-safe, const) ---
  // Outcome of showing `slate` for `request`: probabilities, clicks and
  // rewards drawn from `rng` (the request's stream).
  void draw_outcome(const Request& request, std::span<const ActionId> slate, CounterRng& rng,
                    SlateOutcome& out) const;
  // Exact expected reward of each slot of `slate` for `request`.
  void expected_slot_rewards(const Request& request, std::span<const ActionId> slate,
                             std::span<double> out) const;

  // The seed of request `index`'s stream: stream_seed of the world's request seed.
  std::uint64_t request_seed(std::uint64_t index) const;
  // [arrival, expiry) request indices of item `id` (arrival may be negative).
  std::pair<std::int64_t, std::int64_t> item_interval(ItemId id) const;
  // The item live in `slot` at request `index`.
  ItemId live_item(std::uint32_t slot, std::uint64_t index) const;
  // Popularity share p_s of catalogue slot s (and of every item it hosts).
  double popularity(std::uint32_t slot) const { return popularity_[slot]; }
  // Latent preference z of population member `user`.
  Eigen::VectorXd user_latent(std::uint32_t user) const { return user_latent_.col(user); }
  // Observed features y of population member `user` (what a context carries).
  Eigen::VectorXd user_features(std::uint32_t user) const { return user_observed_.col(user); }
  // The latent side of item `id`: its vector v_i (latent_dim), its category
  // and its logit offset b_i + popularity_weight log(n_items p_i), so that
  // logit(user, id) = z_user . v_i + offset. A function of (seed, id) alone.
  struct ItemTruth {
    Eigen::VectorXd latent;
    std::uint32_t category = 0;
    double offset = 0.0;
  };
  ItemTruth item_truth(ItemId id) const;
  // Index into the population of the user whose features are `features`;
  // throws std::invalid_argument if none (or an ambiguous match).
  std::uint32_t find_user(const Eigen::VectorXd& features) const;
  // The logit x_ui of population member `user` for item `id`.
  double logit(std::uint32_t user, ItemId id) const;
  // E[reward | click] for a click with logit x (the g_ui of the header).
  double reward_given_click(double logit) const;

  void set_clock(std::uint64_t index) { clock_ = index; }
  std::uint64_t clock() const { return clock_; }
  const Config& config() const { return config_; }
  const ChoiceModel& choice_model() const { return choice_; }

 private:
  struct ItemAttributes {
    std::uint32_t category = 0;
    double bias = 0.0;
  };
  // Writes item `id`'s latent and observed vectors (latent_dim each) and
  // returns its category and bias: a function of (seed, id) alone.
  ItemAttributes make_item(ItemId id, double* latent, double* observed) const;
  // Rows of an item's feature column: log popularity, vector, one-hot category.
  Eigen::Index feature_rows() const { return 1 + config_.latent_dim + config_.n_categories; }
  // Doubles per slot record: the feature column (feature_rows()), the latent
  // vector (latent_dim), the logit offset b_i + popularity_weight log(n p_i).
  std::size_t record_stride() const {
    return static_cast<std::size_t>(feature_rows() + config_.latent_dim + 1);
  }
  // Writes item `id` (hosted by `slot`) as a record at `record`.
  void write_item_record(std::uint32_t slot, ItemId id, double* record) const;
  void slate_logits(const Context& context, std::span<const ActionId> slate,
                    std::span<double> out) const;

  Config config_;
  ChoiceModel choice_;
  std::uint64_t items_seed_ = 0;
  std::uint64_t requests_seed_ = 0;
  Eigen::MatrixXd category_centres_;  // latent_dim x n_categories
  Eigen::MatrixXd user_latent_;       // latent_dim x n_users
  Eigen::MatrixXd user_observed_;     // user_obs_dim x n_users
  std::unordered_multimap<std::uint64_t, std::uint32_t> user_index_;
  std::vector<double> popularity_;    // p_s per slot
  std::vector<double> log_popularity_;
  std::vector<double> log_relative_popularity_;  // log(n_items p_s)
  std::vector<std::uint64_t> slot_offset_;  // o_s
  std::vector<double> alias_probability_;   // Walker/Vose alias table over slots
  std::vector<std::uint32_t> alias_;
  // The first generation of items, copied into every Worker.
  std::vector<ItemId> initial_ids_;
  std::vector<double> initial_records_;
  // State of the Simulator seam.
  std::uint64_t clock_ = 0;
  std::unique_ptr<Worker> seam_worker_;
  Request seam_request_;
};

}  // namespace recloop

// SPDX-License-Identifier: Apache-2.0
#include "simulator/population_world.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <cstring>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "core/error.h"
#include "core/rng.h"
#include "core/sampling.h"

namespace recloop {
namespace {

constexpr std::uint32_t kAmbiguous = std::numeric_limits<std::uint32_t>::max();
constexpr std::int64_t kMaxLatentDim = 256;

std::vector<double> read_numbers(ConfigSection& section, const std::string& key,
                                 std::string_view doc) {
  std::vector<double> numbers;
  for (const auto& word : section.get_list(key, "", doc)) {
    double value = 0.0;
    const auto [end, error] = std::from_chars(word.data(), word.data() + word.size(), value);
    if (error != std::errc() || end != word.data() + word.size() || !std::isfinite(value)) {
      throw ConfigError(section.where(key) + ": '" + word + "' is not a finite number");
    }
    numbers.push_back(value);
  }
  return numbers;
}

std::uint64_t hash_features(const double* data, Eigen::Index n) {
  return fnv1a64(std::string_view(reinterpret_cast<const char*>(data),
                                  static_cast<std::size_t>(n) * sizeof(double)));
}

// Rewards of the clicked slots (header: r = reward_click + reward_dwell dwell
// + reward_purchase purchase); `uniform` is called only for the signals that
// carry weight, so a click-only world spends no draws here.
template <class Uniform>
void rewards_from_clicks(const PopulationWorld::Config& c, const double* logits,
                         std::span<const std::uint8_t> clicks, Uniform&& uniform,
                         std::span<double> out) {
  for (std::size_t k = 0; k < clicks.size(); ++k) {
    if (clicks[k] == 0) {
      out[k] = 0.0;
      continue;
    }
    double r = c.reward_click;
    if (c.reward_dwell == 0.0 && c.reward_purchase == 0.0) {
      out[k] = r;
      continue;
    }
    const double a = attractiveness(logits[k]);
    if (c.reward_dwell != 0.0) {
      // Exponential by inversion: -mean * ln(1 - u), u in [0, 1).
      r += c.reward_dwell * (-c.dwell_mean_s * (0.5 + a) * std::log(1.0 - uniform()));
    }
    if (c.reward_purchase != 0.0 && uniform() < c.purchase_rate * a) r += c.reward_purchase;
    out[k] = r;
  }
}

// Where a Worker's candidate loop reads and writes (raw, so the loop has no
// bounds or size bookkeeping).
struct CandidateColumns {
  const std::uint32_t* slots;
  std::size_t m;            // candidates
  std::size_t rows;         // feature rows per candidate
  std::size_t stride;       // doubles per slot record: rows + latent_dim + 1
  const double* records;    // per slot: [feature column | latent vector | offset]
  const ItemId* ids;        // per slot
  double* actions;          // rows x m
  double* logits;           // m
  ItemId* items;            // m
};

// Copies each candidate's feature column and computes its logit z . v + offset,
// all from the slot's one contiguous record (few cache lines per candidate in
// a large catalogue). D > 0 fixes the latent dimension at compile time; D = 0
// reads `dim`.
template <std::size_t D>
void fill_candidates(const CandidateColumns& c, const double* z, std::size_t dim) {
  const std::size_t d = D > 0 ? D : dim;
  for (std::size_t i = 0; i < c.m; ++i) {
    const std::size_t slot = c.slots[i];
    const double* record = c.records + slot * c.stride;
    std::memcpy(c.actions + i * c.rows, record, c.rows * sizeof(double));
    const double* v = record + c.rows;
    double dot = 0.0;
    for (std::size_t j = 0; j < d; ++j) dot += z[j] * v[j];
    c.logits[i] = dot + v[d];
    c.items[i] = c.ids[slot];
  }
}

void check_slate(std::span<const ActionId> slate, std::size_t candidates, std::size_t max_slots) {
  if (slate.empty() || slate.size() > max_slots) {
    throw std::invalid_argument("population world: a slate of " + std::to_string(slate.size()) +
                                " slots (need 1 to " + std::to_string(max_slots) + ")");
  }
  for (std::size_t k = 0; k < slate.size(); ++k) {
    if (slate[k] >= candidates) {
      throw std::invalid_argument("population world: slate slot " + std::to_string(k) +
                                  " shows candidate " + std::to_string(slate[k]) + " of " +
                                  std::to_string(candidates));
    }
    for (std::size_t j = 0; j < k; ++j) {
      if (slate[j] == slate[k]) {
        throw std::invalid_argument("population world: candidate " + std::to_string(slate[k]) +
                                    " shown twice in one slate");
      }
    }
  }
}

}  // namespace

PopulationWorld::Config PopulationWorld::Config::from(ConfigSection& section) {
  Config c;
  c.n_items = section.get_int("n_items", c.n_items, 2, 1'000'000,
                              "live catalogue size (an arriving item takes the slot of one expiring)");
  c.candidates = section.get_int("candidates", c.candidates, 1, 1'000'000,
                                 "distinct live items offered per request (at most n_items)");
  c.popularity_candidates =
      section.get_choice("candidate_sampling", "uniform", {"uniform", "popularity"},
                         "how candidates are drawn from the live catalogue") == "popularity";
  c.latent_dim = section.get_int("latent_dim", c.latent_dim, 1, kMaxLatentDim,
                                 "length of the latent user and item vectors");
  c.signal = section.get_double("signal", c.signal, 0.0, 10.0,
                                "sd of the affinity z.v for a standard user (logit scale)");
  c.bias_mean = section.get_double("bias_mean", c.bias_mean, -10.0, 10.0,
                                   "mean item bias on the logit scale");
  c.bias_sd = section.get_double("bias_sd", c.bias_sd, 0.0, 10.0, "sd of item biases");
  c.zipf_exponent = section.get_double("zipf_exponent", c.zipf_exponent, 0.0, 5.0,
                                       "alpha: slot s has popularity share ~ (s + 1)^-alpha");
  c.popularity_weight = section.get_double(
      "popularity_weight", c.popularity_weight, -5.0, 5.0,
      "weight of log(n_items * popularity share) in the click logit");
  c.n_categories = section.get_int("n_categories", c.n_categories, 1, 1000,
                                   "item categories (one-hot item features)");
  c.category_share = section.get_double("category_share", c.category_share, 0.0, 1.0,
                                        "share of item vector variance common to a category");
  c.item_lifetime = section.get_int("item_lifetime", c.item_lifetime, 0, 1'000'000'000,
                                    "requests an item stays live (0: items never expire)");
  c.n_users = section.get_int("n_users", c.n_users, 1, 1'000'000, "size of the user population");
  const auto types = section.get_int("user_types", 1, 1, 64, "number of Gaussian user types");
  const auto weights = read_numbers(section, "user_type_weights",
                                    "mixture weights of the user types (empty: equal)");
  const auto means = read_numbers(
      section, "user_type_means",
      "user_types x latent_dim type means, type by type "
      "(empty: drawn N(0, user_type_mean_scale^2); one type: 0)");
  c.type_mean_scale = section.get_double("user_type_mean_scale", c.type_mean_scale, 0.0, 10.0,
                                         "sd of the drawn type means (two or more types)");
  const auto spreads = read_numbers(section, "user_type_spreads",
                                    "sd of each type around its mean (empty: all 1)");
  c.user_obs_dim = section.get_int("user_obs_dim", c.latent_dim, 1, kMaxLatentDim,
                                   "length of the observed user features (default latent_dim)");
  c.user_view_distortion =
      section.get_double("user_view_distortion", c.user_view_distortion, 0.0, 10.0,
                         "weight of a random matrix added to the identity view of z");
  c.user_obs_noise = section.get_double("user_obs_noise", c.user_obs_noise, 0.0, 10.0,
                                        "sd of the noise on the observed user features");
  c.item_obs_noise = section.get_double("item_obs_noise", c.item_obs_noise, 0.0, 10.0,
                                        "sd of the noise on the observed item vectors");
  c.choice.kind = parse_choice_model(section.get_choice(
      "choice_model", "cascade", choice_model_names(), "how users click on a slate"));
  c.choice.position_decay = section.get_double("position_decay", c.choice.position_decay, 0.0,
                                               10.0, "eta: slot k examined with (k + 1)^-eta");
  c.choice.no_click_utility = section.get_double("no_click_utility", c.choice.no_click_utility,
                                                 -20.0, 20.0, "utility of not clicking (mnl)");
  c.reward_click = section.get_double("reward_click", c.reward_click, -100.0, 100.0,
                                      "reward per click");
  c.reward_dwell = section.get_double("reward_dwell", c.reward_dwell, -100.0, 100.0,
                                      "reward per second of dwell after a click");
  c.reward_purchase = section.get_double("reward_purchase", c.reward_purchase, -1e4, 1e4,
                                         "reward per purchase after a click");
  c.dwell_mean_s = section.get_double("dwell_mean_s", c.dwell_mean_s, 0.0, 1e5,
                                      "dwell scale: mean dwell is dwell_mean_s * (0.5 + a)",
                                      /*min_exclusive=*/true);
  c.purchase_rate = section.get_double("purchase_rate", c.purchase_rate, 0.0, 1.0,
                                       "P(purchase | click) = purchase_rate * a");
  c.seed = static_cast<std::uint64_t>(section.get_int(
      "seed", static_cast<long long>(c.seed), 0, (1LL << 62), "seed of population and catalogue"));
  if (c.candidates > c.n_items) {
    throw ConfigError(section.where("candidates") + ": must not exceed n_items = " +
                      std::to_string(c.n_items));
  }
  const auto n_types = static_cast<std::size_t>(types);
  c.type_weights = weights.empty() ? std::vector<double>(n_types, 1.0) : weights;
  if (c.type_weights.size() != n_types) {
    throw ConfigError(section.where("user_type_weights") + ": needs " + std::to_string(types) +
                      " weights (user_types)");
  }
  double total = 0.0;
  for (double w : c.type_weights) {
    if (w < 0.0) throw ConfigError(section.where("user_type_weights") + ": weights must be >= 0");
    total += w;
  }
  if (!(total > 0.0)) {
    throw ConfigError(section.where("user_type_weights") + ": weights must have a positive sum");
  }
  c.type_means = means;
  if (!means.empty() && means.size() != n_types * static_cast<std::size_t>(c.latent_dim)) {
    throw ConfigError(section.where("user_type_means") + ": needs user_types * latent_dim = " +
                      std::to_string(n_types * static_cast<std::size_t>(c.latent_dim)) +
                      " numbers");
  }
  c.type_spreads = spreads;
  if (!spreads.empty() && spreads.size() != n_types) {
    throw ConfigError(section.where("user_type_spreads") + ": needs " + std::to_string(types) +
                      " spreads (user_types)");
  }
  for (double s : spreads) {
    if (s < 0.0) throw ConfigError(section.where("user_type_spreads") + ": spreads must be >= 0");
  }
  return c;
}

PopulationWorld::PopulationWorld(const Config& config) : config_(config), choice_(config.choice) {
  const auto& c = config_;
  const std::size_t n_types = c.type_weights.size();
  const auto d = c.latent_dim;
  if (c.n_items < 2 || c.candidates < 1 || c.candidates > c.n_items || d < 1 ||
      d > kMaxLatentDim || c.n_categories < 1 || c.n_users < 1 || c.user_obs_dim < 1 ||
      c.user_obs_dim > kMaxLatentDim || c.item_lifetime < 0 || n_types < 1 ||
      !(c.signal >= 0.0) || !(c.bias_sd >= 0.0) || !(c.category_share >= 0.0) ||
      !(c.category_share <= 1.0) || !(c.zipf_exponent >= 0.0) || !(c.dwell_mean_s > 0.0) ||
      !(c.purchase_rate >= 0.0 && c.purchase_rate <= 1.0) ||
      (!c.type_means.empty() && c.type_means.size() != n_types * static_cast<std::size_t>(d)) ||
      (!c.type_spreads.empty() && c.type_spreads.size() != n_types)) {
    throw std::invalid_argument("PopulationWorld: invalid config (n_items " +
                                std::to_string(c.n_items) + ", candidates " +
                                std::to_string(c.candidates) + ", latent_dim " +
                                std::to_string(d) + ", user types " + std::to_string(n_types) + ")");
  }
  items_seed_ = stream_seed(c.seed, 2);
  requests_seed_ = stream_seed(c.seed, 4);
  const auto n = static_cast<std::size_t>(c.n_items);

  // Structure: category centres, type means, the view matrix W.
  CounterRng structure(stream_seed(c.seed, 3));
  category_centres_.resize(d, c.n_categories);
  for (Eigen::Index j = 0; j < category_centres_.size(); ++j) {
    category_centres_.data()[j] = structure.normal();
  }
  Eigen::MatrixXd type_means(d, static_cast<Eigen::Index>(n_types));
  for (Eigen::Index j = 0; j < type_means.size(); ++j) {
    type_means.data()[j] = c.type_means.empty() ? c.type_mean_scale * structure.normal()
                                                : c.type_means[static_cast<std::size_t>(j)];
  }
  if (n_types == 1 && c.type_means.empty()) type_means.setZero();  // one type: N(0, s^2 I)
  Eigen::MatrixXd view = Eigen::MatrixXd::Identity(c.user_obs_dim, d);
  if (c.user_view_distortion > 0.0) {
    const double scale = c.user_view_distortion / std::sqrt(static_cast<double>(d));
    for (Eigen::Index j = 0; j < view.size(); ++j) view.data()[j] += scale * structure.normal();
  }

  // The population: type ~ weights, z ~ N(mu_t, s_t^2 I), y = W z + noise.
  std::vector<double> cumulative(n_types);
  std::partial_sum(c.type_weights.begin(), c.type_weights.end(), cumulative.begin());
  const auto users = static_cast<Eigen::Index>(c.n_users);
  user_latent_.resize(d, users);
  user_observed_.resize(c.user_obs_dim, users);
  Eigen::VectorXd z(d);
  for (Eigen::Index u = 0; u < users; ++u) {
    CounterRng g(stream_seed(stream_seed(c.seed, 1), static_cast<std::uint64_t>(u)));
    const double pick = g.uniform01() * cumulative.back();
    std::size_t type = 0;
    while (type + 1 < n_types && pick >= cumulative[type]) ++type;
    const double spread = c.type_spreads.empty() ? 1.0 : c.type_spreads[type];
    for (Eigen::Index j = 0; j < d; ++j) {
      z[j] = type_means(j, static_cast<Eigen::Index>(type)) + spread * g.normal();
    }
    user_latent_.col(u) = z;
    user_observed_.col(u) = view * z;
    if (c.user_obs_noise > 0.0) {
      for (Eigen::Index j = 0; j < c.user_obs_dim; ++j) {
        user_observed_(j, u) += c.user_obs_noise * g.normal();
      }
    }
  }
  // Exact lookup of a user from the features a context carries.
  user_index_.reserve(static_cast<std::size_t>(users));
  for (Eigen::Index u = 0; u < users; ++u) {
    const double* y = user_observed_.col(u).data();
    const auto hash = hash_features(y, c.user_obs_dim);
    bool duplicate = false;
    const auto [first, last] = user_index_.equal_range(hash);
    for (auto it = first; it != last; ++it) {
      if (it->second == kAmbiguous) continue;
      const auto other = static_cast<Eigen::Index>(it->second);
      if (user_observed_.col(other) == user_observed_.col(u)) {
        duplicate = true;
        if (user_latent_.col(other) != user_latent_.col(u)) it->second = kAmbiguous;
      }
    }
    if (!duplicate) user_index_.emplace(hash, static_cast<std::uint32_t>(u));
  }

  // Zipf popularity shares by slot, and Vose's alias table (Vose 1991, IEEE
  // TSE 17(9), "A linear algorithm for generating random numbers with a given
  // distribution") for O(1) popularity-weighted draws.
  popularity_.resize(n);
  log_popularity_.resize(n);
  double harmonic = 0.0;
  for (std::size_t s = 0; s < n; ++s) {
    popularity_[s] = std::pow(static_cast<double>(s + 1), -c.zipf_exponent);
    harmonic += popularity_[s];
  }
  log_relative_popularity_.resize(n);
  for (std::size_t s = 0; s < n; ++s) {
    popularity_[s] /= harmonic;
    log_popularity_[s] = std::log(popularity_[s]);
    log_relative_popularity_[s] = log_popularity_[s] + std::log(static_cast<double>(n));
  }
  alias_probability_.resize(n);
  alias_.resize(n);
  {
    std::vector<double> scaled(n);
    std::vector<std::uint32_t> small, large;
    for (std::size_t s = 0; s < n; ++s) {
      scaled[s] = popularity_[s] * static_cast<double>(n);
      (scaled[s] < 1.0 ? small : large).push_back(static_cast<std::uint32_t>(s));
    }
    while (!small.empty() && !large.empty()) {
      const auto l = small.back();
      small.pop_back();
      const auto g = large.back();
      alias_probability_[l] = scaled[l];
      alias_[l] = g;
      scaled[g] = (scaled[g] + scaled[l]) - 1.0;
      if (scaled[g] < 1.0) {
        large.pop_back();
        small.push_back(g);
      }
    }
    for (auto s : large) alias_probability_[s] = 1.0, alias_[s] = s;
    for (auto s : small) alias_probability_[s] = 1.0, alias_[s] = s;  // rounding leftovers
  }
  slot_offset_.resize(n);
  const auto lifetime = static_cast<std::uint64_t>(c.item_lifetime);
  for (std::size_t s = 0; s < n; ++s) slot_offset_[s] = s * lifetime / n;

  // The first generation, precomputed once and copied into every Worker.
  initial_ids_.resize(n);
  initial_records_.resize(n * record_stride());
  for (std::size_t s = 0; s < n; ++s) {
    initial_ids_[s] = s;
    write_item_record(static_cast<std::uint32_t>(s), s,
                      initial_records_.data() + s * record_stride());
  }
  seam_worker_ = std::make_unique<Worker>(*this);
}

PopulationWorld::ItemAttributes PopulationWorld::make_item(ItemId id, double* latent,
                                                           double* observed) const {
  const auto& c = config_;
  const auto d = c.latent_dim;
  CounterRng g(stream_seed(items_seed_, id));
  ItemAttributes item;
  item.category = static_cast<std::uint32_t>(g.index(static_cast<std::uint64_t>(c.n_categories)));
  const double scale = c.signal / std::sqrt(static_cast<double>(d));
  const double shared = std::sqrt(c.category_share);
  const double own = std::sqrt(1.0 - c.category_share);
  for (Eigen::Index j = 0; j < d; ++j) {
    latent[j] = scale * (shared * category_centres_(j, item.category) + own * g.normal());
  }
  item.bias = c.bias_mean + c.bias_sd * g.normal();
  for (Eigen::Index j = 0; j < d; ++j) {
    observed[j] = latent[j] + (c.item_obs_noise > 0.0 ? c.item_obs_noise * g.normal() : 0.0);
  }
  return item;
}

void PopulationWorld::write_item_record(std::uint32_t slot, ItemId id, double* record) const {
  const auto rows = static_cast<std::size_t>(feature_rows());
  const auto d = static_cast<std::size_t>(config_.latent_dim);
  const auto item = make_item(id, record + rows, record + kFirstItemVectorRow);
  record[kLogPopularityRow] = log_popularity_[slot];
  double* one_hot = record + kFirstItemVectorRow + d;
  std::fill(one_hot, one_hot + config_.n_categories, 0.0);
  one_hot[item.category] = 1.0;
  record[rows + d] = item.bias + config_.popularity_weight * log_relative_popularity_[slot];
}

std::uint64_t PopulationWorld::request_seed(std::uint64_t index) const {
  return stream_seed(requests_seed_, index);
}

ItemId PopulationWorld::live_item(std::uint32_t slot, std::uint64_t index) const {
  if (config_.item_lifetime == 0) return slot;
  const auto generation =
      (index + slot_offset_[slot]) / static_cast<std::uint64_t>(config_.item_lifetime);
  return generation * static_cast<std::uint64_t>(config_.n_items) + slot;
}

std::pair<std::int64_t, std::int64_t> PopulationWorld::item_interval(ItemId id) const {
  const auto n = static_cast<std::uint64_t>(config_.n_items);
  const auto slot = id % n;
  const auto generation = static_cast<std::int64_t>(id / n);
  if (config_.item_lifetime == 0) {
    if (generation == 0) {
      return {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()};
    }
    return {0, 0};  // never live
  }
  const auto t = config_.item_lifetime;
  const auto offset = static_cast<std::int64_t>(slot_offset_[slot]);
  return {generation * t - offset, (generation + 1) * t - offset};
}

std::uint32_t PopulationWorld::find_user(const Eigen::VectorXd& features) const {
  if (features.size() == config_.user_obs_dim) {
    const auto [first, last] = user_index_.equal_range(hash_features(features.data(), features.size()));
    for (auto it = first; it != last; ++it) {
      if (it->second == kAmbiguous) {
        throw std::invalid_argument(
            "population world: these user features belong to users with different preferences");
      }
      if (user_observed_.col(static_cast<Eigen::Index>(it->second)) == features) return it->second;
    }
  }
  throw std::invalid_argument("population world: a context whose user features (length " +
                              std::to_string(features.size()) +
                              ") match no user of this world");
}

double PopulationWorld::logit(std::uint32_t user, ItemId id) const {
  const auto& c = config_;
  const auto n = static_cast<std::uint64_t>(c.n_items);
  const auto slot = static_cast<std::size_t>(id % n);
  const auto z = user_latent_.col(static_cast<Eigen::Index>(user));
  if (id < n) {  // the first generation: its precomputed record
    const double* v = initial_records_.data() + slot * record_stride() +
                      static_cast<std::size_t>(feature_rows());
    double dot = 0.0;
    for (Eigen::Index j = 0; j < c.latent_dim; ++j) dot += z[j] * v[j];
    return dot + v[c.latent_dim];
  }
  std::array<double, kMaxLatentDim> latent{}, observed{};
  const auto item = make_item(id, latent.data(), observed.data());
  double dot = 0.0;
  for (Eigen::Index j = 0; j < c.latent_dim; ++j) dot += z[j] * latent[static_cast<std::size_t>(j)];
  return dot + item.bias + c.popularity_weight * log_relative_popularity_[slot];
}

PopulationWorld::ItemTruth PopulationWorld::item_truth(ItemId id) const {
  const auto& c = config_;
  const auto slot = static_cast<std::size_t>(id % static_cast<std::uint64_t>(c.n_items));
  ItemTruth truth;
  truth.latent.resize(c.latent_dim);
  std::array<double, kMaxLatentDim> observed{};
  const auto item = make_item(id, truth.latent.data(), observed.data());
  truth.category = item.category;
  truth.offset = item.bias + c.popularity_weight * log_relative_popularity_[slot];
  return truth;
}

double PopulationWorld::reward_given_click(double logit) const {
  const auto& c = config_;
  const double a = attractiveness(logit);
  return c.reward_click + c.reward_dwell * c.dwell_mean_s * (0.5 + a) +
         c.reward_purchase * c.purchase_rate * a;
}

int PopulationWorld::feature_dim() const {
  return static_cast<int>(config_.user_obs_dim + 1 + config_.latent_dim + config_.n_categories);
}

std::size_t PopulationWorld::max_slots() const {
  return std::min<std::size_t>(kMaxSlots, static_cast<std::size_t>(config_.candidates));
}

// --- Worker ---

PopulationWorld::Worker::Worker(const PopulationWorld& world)
    : world_(&world),
      ids_(world.initial_ids_),
      records_(world.initial_records_),
      stamp_(world.initial_ids_.size(), 0) {}

void PopulationWorld::Worker::refresh(std::uint32_t slot, std::uint64_t index) {
  const ItemId id = world_->live_item(slot, index);
  if (ids_[slot] == id) return;
  ids_[slot] = id;
  world_->write_item_record(slot, id, records_.data() + slot * world_->record_stride());
}

CounterRng PopulationWorld::Worker::draw(std::uint64_t index, Request& out) {
  CounterRng rng(world_->request_seed(index));
  draw(index, rng, out);
  return rng;
}

void PopulationWorld::Worker::draw(std::uint64_t index, CounterRng& rng, Request& out) {
  const PopulationWorld& w = *world_;
  const auto& c = w.config_;
  const auto n = static_cast<std::uint64_t>(c.n_items);
  const auto m = static_cast<std::size_t>(c.candidates);
  const auto d = c.latent_dim;
  const auto rows = 1 + d + c.n_categories;
  out.index = index;
  out.user = static_cast<std::uint32_t>(rng.index(static_cast<std::uint64_t>(c.n_users)));
  const auto user = static_cast<Eigen::Index>(out.user);
  Context& context = out.context;
  context.user = w.user_observed_.col(user);  // same size: no allocation after the first
  if (context.actions.rows() != rows || context.actions.cols() != static_cast<Eigen::Index>(m)) {
    context.actions.resize(rows, static_cast<Eigen::Index>(m));
  }
  context.items.resize(m);
  context.available.clear();
  out.logits.resize(m);
  out.slots.resize(m);
  const double* z = w.user_latent_.col(user).data();

  // Distinct slots: successive sampling with a stamp per slot (no clearing
  // between requests: a slot is taken iff its stamp equals this draw's).
  ++draws_;
  std::uint32_t* slots = out.slots.data();
  std::uint64_t* stamp = stamp_.data();
  if (c.popularity_candidates) {
    std::size_t attempts = 0;
    const std::size_t patience = 64 * m + 1024;
    for (std::size_t i = 0; i < m; ++i) {
      std::uint32_t slot = 0;
      do {
        if (attempts++ < patience) {
          const auto s = rng.index(n);  // Vose's alias draw: one index, one uniform
          slot = static_cast<std::uint32_t>(rng.uniform01() < w.alias_probability_[s] ? s
                                                                                        : w.alias_[s]);
        } else {
          slot = static_cast<std::uint32_t>(rng.index(n));
        }
      } while (stamp[slot] == draws_);
      stamp[slot] = draws_;
      slots[i] = slot;
    }
  } else {
    for (std::size_t i = 0; i < m; ++i) {
      std::uint32_t slot = 0;
      do {
        slot = static_cast<std::uint32_t>(rng.index(n));
      } while (stamp[slot] == draws_);
      stamp[slot] = draws_;
      slots[i] = slot;
    }
  }
  if (c.item_lifetime > 0) {
    for (std::size_t i = 0; i < m; ++i) refresh(slots[i], index);
  }
  // Item-side terms are precomputed per slot: the feature column is one
  // copy, the logit one dot product plus the slot's offset.
  const CandidateColumns columns{slots,
                                 m,
                                 static_cast<std::size_t>(rows),
                                 w.record_stride(),
                                 records_.data(),
                                 ids_.data(),
                                 context.actions.data(),
                                 out.logits.data(),
                                 context.items.data()};
  switch (d) {  // a fixed length lets the compiler unroll the dot product
    case 2: fill_candidates<2>(columns, z, 2); break;
    case 4: fill_candidates<4>(columns, z, 4); break;
    case 6: fill_candidates<6>(columns, z, 6); break;
    case 8: fill_candidates<8>(columns, z, 8); break;
    case 16: fill_candidates<16>(columns, z, 16); break;
    default: fill_candidates<0>(columns, z, static_cast<std::size_t>(d)); break;
  }
}

// --- Outcomes ---

void PopulationWorld::draw_outcome(const Request& request, std::span<const ActionId> slate,
                                   CounterRng& rng, SlateOutcome& out) const {
  const std::size_t slots = slate.size();
  assert(slots >= 1 && slots <= max_slots());
  out.probabilities.resize(slots + 1);
  out.clicks.resize(slots);
  out.rewards.resize(slots);
  std::array<double, kMaxSlots> logits, uniforms;  // only the first `slots` are used
  for (std::size_t k = 0; k < slots; ++k) logits[k] = request.logits[slate[k]];
  choice_.probabilities(std::span<const double>(logits.data(), slots), out.probabilities);
  const std::size_t needed = choice_.uniforms_needed(slots);
  for (std::size_t k = 0; k < needed; ++k) uniforms[k] = rng.uniform01();
  choice_.sample(out.probabilities, std::span<const double>(uniforms.data(), needed), out.clicks);
  rewards_from_clicks(config_, logits.data(), out.clicks, [&rng] { return rng.uniform01(); },
                      out.rewards);
}

void PopulationWorld::expected_slot_rewards(const Request& request,
                                            std::span<const ActionId> slate,
                                            std::span<double> out) const {
  const std::size_t slots = slate.size();
  assert(slots >= 1 && slots <= max_slots() && out.size() == slots);
  std::array<double, kMaxSlots> logits;  // only the first `slots` are used
  std::array<double, kMaxSlots + 1> probabilities;
  for (std::size_t k = 0; k < slots; ++k) logits[k] = request.logits[slate[k]];
  choice_.probabilities(std::span<const double>(logits.data(), slots),
                        std::span<double>(probabilities.data(), slots + 1));
  for (std::size_t k = 0; k < slots; ++k) out[k] = probabilities[k] * reward_given_click(logits[k]);
}

// --- Simulator seam ---

Context PopulationWorld::next_context(Rng& rng) {
  CounterRng stream(rng());
  seam_worker_->draw(clock_++, stream, seam_request_);
  return seam_request_.context;
}

void PopulationWorld::slate_logits(const Context& context, std::span<const ActionId> slate,
                                   std::span<double> out) const {
  check_slate(slate, context.size(), max_slots());
  const auto user = find_user(context.user);
  for (std::size_t k = 0; k < slate.size(); ++k) out[k] = logit(user, context.items[slate[k]]);
}

void PopulationWorld::click_probabilities(const Context& context, std::span<const ActionId> slate,
                                          std::span<double> out) const {
  std::array<double, kMaxSlots> logits{};
  slate_logits(context, slate, logits);
  if (out.size() != slate.size() + 1) {
    throw std::invalid_argument("population world: click_probabilities needs slate size + 1 outputs");
  }
  choice_.probabilities(std::span<const double>(logits.data(), slate.size()), out);
}

void PopulationWorld::expected_slot_rewards(const Context& context,
                                            std::span<const ActionId> slate,
                                            std::span<double> out) const {
  std::array<double, kMaxSlots> logits{};
  std::array<double, kMaxSlots + 1> probabilities{};
  slate_logits(context, slate, logits);
  if (out.size() != slate.size()) {
    throw std::invalid_argument("population world: expected_slot_rewards needs one output per slot");
  }
  const std::size_t slots = slate.size();
  choice_.probabilities(std::span<const double>(logits.data(), slots),
                        std::span<double>(probabilities.data(), slots + 1));
  for (std::size_t k = 0; k < slots; ++k) out[k] = probabilities[k] * reward_given_click(logits[k]);
}

void PopulationWorld::draw_slate_rewards(const Context& context, std::span<const ActionId> slate,
                                         Rng& rng, std::span<double> out) {
  std::array<double, kMaxSlots> logits{}, uniforms{};
  std::array<double, kMaxSlots + 1> probabilities{};
  std::array<std::uint8_t, kMaxSlots> clicks{};
  slate_logits(context, slate, logits);
  if (out.size() != slate.size()) {
    throw std::invalid_argument("population world: draw_slate_rewards needs one output per slot");
  }
  const std::size_t slots = slate.size();
  const std::span<double> p(probabilities.data(), slots + 1);
  choice_.probabilities(std::span<const double>(logits.data(), slots), p);
  const std::size_t needed = choice_.uniforms_needed(slots);
  for (std::size_t k = 0; k < needed; ++k) uniforms[k] = uniform01(rng);
  const std::span<std::uint8_t> c(clicks.data(), slots);
  choice_.sample(p, std::span<const double>(uniforms.data(), needed), c);
  rewards_from_clicks(config_, logits.data(), c, [&rng] { return uniform01(rng); }, out);
}

double PopulationWorld::expected_reward(const Context& context, ActionId action) const {
  const std::array<ActionId, 1> slate{action};
  double reward = 0.0;
  expected_slot_rewards(context, slate, std::span<double>(&reward, 1));
  return reward;
}

double PopulationWorld::draw_reward(const Context& context, ActionId action, Rng& rng) {
  const std::array<ActionId, 1> slate{action};
  double reward = 0.0;
  draw_slate_rewards(context, slate, rng, std::span<double>(&reward, 1));
  return reward;
}

std::optional<double> PopulationWorld::value_from_marginals(const Context& context,
                                                            const Eigen::MatrixXd& marginals) const {
  if (!choice_.linear_in_marginals()) return std::nullopt;
  const auto slots = static_cast<std::size_t>(marginals.cols());
  if (marginals.rows() != static_cast<Eigen::Index>(context.size()) || slots < 1 ||
      slots > max_slots()) {
    throw std::invalid_argument("population world: marginals must be candidates x slots (1 to " +
                                std::to_string(max_slots()) + " slots)");
  }
  // PBM / multi-click: E[sum_k r_k] = sum_k sum_a P(a at k) w_k a_a g_a.
  const auto user = find_user(context.user);
  double value = 0.0;
  for (Eigen::Index a = 0; a < marginals.rows(); ++a) {
    const double x = logit(user, context.items[static_cast<std::size_t>(a)]);
    const double per_examination = attractiveness(x) * reward_given_click(x);
    for (std::size_t k = 0; k < slots; ++k) {
      value += marginals(a, static_cast<Eigen::Index>(k)) * choice_.examination(k, slots) *
               per_examination;
    }
  }
  return value;
}

}  // namespace recloop

// SPDX-License-Identifier: Apache-2.0
#include "simulator/linear_click_world.h"

#include <cassert>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

#include "core/error.h"
#include "core/sampling.h"

namespace recloop {

LinearClickWorld::Config LinearClickWorld::Config::from(ConfigSection& section) {
  Config c;
  c.n_items = section.get_int("n_items", c.n_items, 2, 1'000'000, "number of items in the catalogue");
  c.candidates = section.get_int("candidates", c.candidates, 1, 1'000'000,
                                 "items offered per request (at most n_items)");
  c.latent_dim = section.get_int("latent_dim", c.latent_dim, 1, 1024,
                                 "length of the latent user and item vectors");
  c.signal = section.get_double("signal", c.signal, 0.0, 10.0,
                                "standard deviation of the user-item affinity u.v (logit scale)");
  c.bias_mean = section.get_double("bias_mean", c.bias_mean, -10.0, 10.0,
                                   "mean item bias on the logit scale (sets the base click rate)");
  c.bias_sd = section.get_double("bias_sd", c.bias_sd, 0.0, 10.0,
                                 "standard deviation of item biases (popularity spread)");
  c.seed = static_cast<std::uint64_t>(
      section.get_int("seed", static_cast<long long>(c.seed), 0, (1LL << 62), "seed of the catalogue"));
  if (c.candidates > c.n_items) {
    throw ConfigError(section.where("candidates") + ": must not exceed n_items = " +
                      std::to_string(c.n_items));
  }
  return c;
}

LinearClickWorld::LinearClickWorld(const Config& config) : config_(config) {
  if (config.n_items < 2 || config.candidates < 1 || config.candidates > config.n_items ||
      config.latent_dim < 1 || !(config.signal >= 0.0) || !(config.bias_sd >= 0.0)) {
    throw std::invalid_argument("LinearClickWorld: invalid config (n_items " +
                                std::to_string(config.n_items) + ", candidates " +
                                std::to_string(config.candidates) + ")");
  }
  Rng rng(config.seed);
  const auto k = static_cast<Eigen::Index>(config.latent_dim);
  const auto n = static_cast<Eigen::Index>(config.n_items);
  // v_i ~ N(0, signal^2/k I) makes u.v_i ~ N(0, signal^2) for u ~ N(0, I).
  const double scale = config.signal / std::sqrt(static_cast<double>(k));
  item_vectors_.resize(k, n);
  item_bias_.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < k; ++j) item_vectors_(j, i) = scale * standard_normal(rng);
    item_bias_[i] = config.bias_mean + config.bias_sd * standard_normal(rng);
  }
  shuffle_.resize(static_cast<std::size_t>(n));
  std::iota(shuffle_.begin(), shuffle_.end(), 0u);
}

Context LinearClickWorld::next_context(Rng& rng) {
  const auto k = static_cast<Eigen::Index>(config_.latent_dim);
  const auto m = static_cast<std::size_t>(config_.candidates);
  Context context;
  context.user.resize(k);
  for (Eigen::Index j = 0; j < k; ++j) context.user[j] = standard_normal(rng);
  // Partial Fisher–Yates (Knuth, TAOCP vol. 2, Alg. P, stopped after m
  // steps): O(m) per request however large the catalogue. The swaps are undone
  // afterwards so the permutation is the identity again, and a request depends
  // only on the Rng: every policy compared on the same seed sees the same users.
  context.items.resize(m);
  context.actions.resize(k, static_cast<Eigen::Index>(m));
  swaps_.resize(m);
  for (std::size_t i = 0; i < m; ++i) {
    const auto j = i + uniform_index(rng, shuffle_.size() - i);
    swaps_[i] = static_cast<std::uint32_t>(j);
    std::swap(shuffle_[i], shuffle_[j]);
    const auto item = shuffle_[i];
    context.items[i] = item;
    context.actions.col(static_cast<Eigen::Index>(i)) = item_vectors_.col(item);
  }
  for (std::size_t i = m; i-- > 0;) std::swap(shuffle_[i], shuffle_[swaps_[i]]);
  return context;
}

double LinearClickWorld::expected_reward(const Context& context, ActionId action) const {
  assert(action < context.size());
  const auto item = static_cast<Eigen::Index>(context.items[action]);
  const double logit = context.user.dot(item_vectors_.col(item)) + item_bias_[item];
  return 1.0 / (1.0 + std::exp(-logit));
}

double LinearClickWorld::draw_reward(const Context& context, ActionId action, Rng& rng) {
  // Exactly one engine output per reward, so reward streams of different
  // policies stay aligned step by step (common random numbers).
  return bernoulli(rng, expected_reward(context, action));
}

}  // namespace recloop

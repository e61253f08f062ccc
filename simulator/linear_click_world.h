// SPDX-License-Identifier: Apache-2.0
// A world of users and items with latent vectors and a logistic click model:
//   P(click | user u, item i) = sigmoid(u . v_i + b_i)
// Users are drawn fresh for every request, u ~ N(0, I); item vectors
// v_i ~ N(0, (signal^2 / latent_dim) I), so u . v_i has standard deviation
// `signal`; biases b_i ~ N(bias_mean, bias_sd^2). Each request offers
// `candidates` distinct items drawn uniformly from the catalogue.
// The policy sees u as the user features and v_i as the item's features (no
// observation noise), so expected_reward() is exact for every context.
// The catalogue is fixed by `seed`; requests and clicks come from the Rng
// passed in. Not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include <Eigen/Dense>

#include "core/config.h"
#include "simulator/simulator.h"

namespace recloop {

class LinearClickWorld final : public Simulator {
 public:
  struct Config {
    std::int64_t n_items = 100;     // catalogue size, [2, 1e6]
    std::int64_t candidates = 10;   // items offered per request, [1, n_items]
    std::int64_t latent_dim = 6;    // length of user and item vectors, [1, 1024]
    double signal = 2.0;            // standard deviation of u . v_i, [0, 10]
    double bias_mean = -1.5;        // mean item bias (logit scale), [-10, 10]
    double bias_sd = 0.5;           // spread of item biases, [0, 10]
    std::uint64_t seed = 1;         // draws the catalogue (item vectors and biases)
    bool operator==(const Config&) const = default;
    static Config from(ConfigSection& section);
  };

  explicit LinearClickWorld(const Config& config);

  Context next_context(Rng& rng) override;
  double draw_reward(const Context& context, ActionId action, Rng& rng) override;
  double expected_reward(const Context& context, ActionId action) const override;
  int feature_dim() const override { return static_cast<int>(2 * config_.latent_dim); }
  std::string_view name() const override { return "linear_click"; }

  const Config& config() const { return config_; }

 private:
  Config config_;
  Eigen::MatrixXd item_vectors_;  // latent_dim x n_items
  Eigen::VectorXd item_bias_;     // n_items
  std::vector<std::uint32_t> shuffle_;  // identity permutation between calls (scratch)
  std::vector<std::uint32_t> swaps_;    // swaps made by the last sample, to undo them
};

}  // namespace recloop

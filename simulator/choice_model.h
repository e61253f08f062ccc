// SPDX-License-Identifier: Apache-2.0
// Choice models: what a user does with an ordered slate of L items (L = 1 is
// the single-slot request of the Simulator seam). Each item shown at slot k
// has a logit x_k (the world's user-item utility); its attractiveness is
// a_k = sigmoid(x_k). Four models:
//
//   mnl          multinomial logit with a no-click option (McFadden 1974):
//                P(click k) = exp(x_k) / (exp(u0) + sum_j exp(x_j)), at most
//                one click, no position effect; u0 = no_click_utility.
//   cascade      the cascade model (Craswell, Zoeter, Taylor & Ramsey 2008,
//                WSDM, sec. 3.5): examine slots in order, click slot k with
//                probability a_k and stop there:
//                P(click k) = a_k prod_{j<k} (1 - a_j).
//   pbm          position-based examination with one examined slot: the user
//                looks at slot k with probability e_k(L) = theta_k / Z_L,
//                Z_L = max(1, sum_{j<L} theta_j) (at no slot with probability
//                1 - sum_k e_k(L)), and clicks it with probability a_k:
//                P(click k) = e_k(L) a_k, at most one click. For L = 1,
//                e_0 = theta_0 = 1.
//   multi_click  the position-based model of Richardson, Dominowska & Ragno
//                2007 (WWW; Chuklin, Markov & de Rijke 2015, "Click Models
//                for Web Search", sec. 3.2): every slot independently
//                examined with probability theta_k and clicked with a_k,
//                several clicks possible: P(click k) = theta_k a_k.
//
// Examination by position: theta_k = 1 / (k + 1)^eta (slot k = 0 first),
// eta = position_decay >= 0; eta = 0 examines every slot.
//
// probabilities() returns L + 1 numbers: entry k < L is P(click on slot k),
// entry L is P(no click at all). For the single-click models (mnl, cascade,
// pbm) the L + 1 outcomes are exclusive and sum to 1. For multi_click entry k
// is the marginal click probability of slot k (clicks are independent), and
// entry L = prod_k (1 - theta_k a_k); they do not sum to 1.
//
// Linear in the slot marginals: under pbm and multi_click the expected
// number of clicks (and any per-click reward) of a random ranking depends on
// the ranking distribution only through P(item i at slot k):
//   E[clicks] = sum_k sum_i P(i at k) w_k a_i,  w_k = e_k(L) or theta_k.
// mnl and cascade are not: a slot's click probability depends on the other
// items shown, so a policy's exact value needs its full ranking distribution.
//
// Slates hold at most kMaxSlots items. Immutable after construction and
// therefore safe to share between threads.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace recloop {

enum class ChoiceModelKind { kMultinomialLogit, kCascade, kPositionBased, kMultiClick };

// "mnl", "cascade", "pbm", "multi_click".
std::string_view choice_model_name(ChoiceModelKind kind);
std::vector<std::string> choice_model_names();
// Throws std::invalid_argument naming an unknown model and the known ones.
ChoiceModelKind parse_choice_model(std::string_view name);

class ChoiceModel {
 public:
  static constexpr std::size_t kMaxSlots = 64;

  struct Config {
    ChoiceModelKind kind = ChoiceModelKind::kCascade;
    double position_decay = 1.0;    // eta in theta_k = (k + 1)^-eta, [0, 10]
    double no_click_utility = 0.0;  // u0 of mnl (logit scale), [-20, 20]
    bool operator==(const Config&) const = default;
  };

  // Throws std::invalid_argument, with the value, for a decay or no-click
  // utility outside its range.
  explicit ChoiceModel(const Config& config);
  ChoiceModel();  // the default Config

  // See the header comment. logits.size() = L in [1, kMaxSlots]; out.size() = L + 1.
  void probabilities(std::span<const double> logits, std::span<double> out) const;

  // Clicks of one user on the slate whose probabilities() are `probabilities`
  // (L + 1 entries), from uniforms_needed(L) uniforms on [0, 1): the
  // single-click models pick one outcome by inverse CDF over the L + 1
  // entries (one uniform), multi_click clicks slot k iff uniforms[k] <
  // probabilities[k]. Writes 0/1 per slot into clicks (L entries).
  void sample(std::span<const double> probabilities, std::span<const double> uniforms,
              std::span<std::uint8_t> clicks) const;
  std::size_t uniforms_needed(std::size_t slots) const { return single_click() ? 1 : slots; }

  // True for mnl, cascade and pbm (at most one click per slate).
  bool single_click() const { return config_.kind != ChoiceModelKind::kMultiClick; }
  // True for pbm and multi_click (see "Linear in the slot marginals").
  bool linear_in_marginals() const {
    return config_.kind == ChoiceModelKind::kPositionBased ||
           config_.kind == ChoiceModelKind::kMultiClick;
  }
  // theta_k = (k + 1)^-eta, for k < kMaxSlots.
  double theta(std::size_t k) const { return theta_[k]; }
  // w_k of the linear models: e_k(L) for pbm, theta_k for multi_click (0 for
  // the others), so that P(click k) = w_k a_k. k < slots <= kMaxSlots.
  double examination(std::size_t k, std::size_t slots) const;

  const Config& config() const { return config_; }

 private:
  Config config_;
  std::array<double, kMaxSlots> theta_{};
  std::array<double, kMaxSlots + 1> pbm_norm_{};  // Z_L for L = 0 .. kMaxSlots
};

// sigmoid(x) = 1 / (1 + exp(-x)), the attractiveness of a logit.
inline double attractiveness(double logit) { return 1.0 / (1.0 + std::exp(-logit)); }

}  // namespace recloop

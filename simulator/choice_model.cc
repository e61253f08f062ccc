// SPDX-License-Identifier: Apache-2.0
#include "simulator/choice_model.h"

#include <algorithm>
#include <cassert>
#include <stdexcept>

namespace recloop {

std::string_view choice_model_name(ChoiceModelKind kind) {
  switch (kind) {
    case ChoiceModelKind::kMultinomialLogit: return "mnl";
    case ChoiceModelKind::kCascade: return "cascade";
    case ChoiceModelKind::kPositionBased: return "pbm";
    case ChoiceModelKind::kMultiClick: return "multi_click";
  }
  return "?";
}

std::vector<std::string> choice_model_names() { return {"mnl", "cascade", "pbm", "multi_click"}; }

ChoiceModelKind parse_choice_model(std::string_view name) {
  for (auto kind : {ChoiceModelKind::kMultinomialLogit, ChoiceModelKind::kCascade,
                    ChoiceModelKind::kPositionBased, ChoiceModelKind::kMultiClick}) {
    if (choice_model_name(kind) == name) return kind;
  }
  throw std::invalid_argument("unknown choice model '" + std::string(name) +
                              "' (known: mnl, cascade, pbm, multi_click)");
}

ChoiceModel::ChoiceModel() : ChoiceModel(Config{}) {}

ChoiceModel::ChoiceModel(const Config& config) : config_(config) {
  if (!(config.position_decay >= 0.0 && config.position_decay <= 10.0)) {
    throw std::invalid_argument("ChoiceModel: position_decay = " +
                                std::to_string(config.position_decay) + ", need [0, 10]");
  }
  if (!(config.no_click_utility >= -20.0 && config.no_click_utility <= 20.0)) {
    throw std::invalid_argument("ChoiceModel: no_click_utility = " +
                                std::to_string(config.no_click_utility) + ", need [-20, 20]");
  }
  double total = 0.0;
  pbm_norm_[0] = 1.0;
  for (std::size_t k = 0; k < kMaxSlots; ++k) {
    theta_[k] = std::pow(static_cast<double>(k + 1), -config.position_decay);
    total += theta_[k];
    pbm_norm_[k + 1] = std::max(1.0, total);
  }
}

double ChoiceModel::examination(std::size_t k, std::size_t slots) const {
  assert(k < slots && slots <= kMaxSlots);
  switch (config_.kind) {
    case ChoiceModelKind::kPositionBased: return theta_[k] / pbm_norm_[slots];
    case ChoiceModelKind::kMultiClick: return theta_[k];
    default: return 0.0;
  }
}

void ChoiceModel::probabilities(std::span<const double> logits, std::span<double> out) const {
  const std::size_t slots = logits.size();
  assert(slots >= 1 && slots <= kMaxSlots && out.size() == slots + 1);
  switch (config_.kind) {
    case ChoiceModelKind::kMultinomialLogit: {
      // McFadden 1974: P(k) = exp(x_k) / (exp(u0) + sum_j exp(x_j)), shifted by
      // the largest utility so no exponential overflows.
      double top = config_.no_click_utility;
      for (double x : logits) top = std::max(top, x);
      double total = std::exp(config_.no_click_utility - top);
      out[slots] = total;
      for (std::size_t k = 0; k < slots; ++k) {
        out[k] = std::exp(logits[k] - top);
        total += out[k];
      }
      for (double& p : out) p /= total;
      return;
    }
    case ChoiceModelKind::kCascade: {
      // Craswell et al. 2008, sec. 3.5: P(click k) = a_k prod_{j<k} (1 - a_j).
      double reach = 1.0;
      for (std::size_t k = 0; k < slots; ++k) {
        const double a = attractiveness(logits[k]);
        out[k] = reach * a;
        reach *= 1.0 - a;
      }
      out[slots] = reach;
      return;
    }
    case ChoiceModelKind::kPositionBased: {
      // One examined slot, e_k(L) = theta_k / Z_L: P(click k) = e_k a_k.
      double none = 1.0;
      const double norm = pbm_norm_[slots];
      for (std::size_t k = 0; k < slots; ++k) {
        out[k] = theta_[k] / norm * attractiveness(logits[k]);
        none -= out[k];
      }
      out[slots] = std::max(0.0, none);
      return;
    }
    case ChoiceModelKind::kMultiClick: {
      // Richardson et al. 2007: independent clicks, P(click k) = theta_k a_k.
      double none = 1.0;
      for (std::size_t k = 0; k < slots; ++k) {
        out[k] = theta_[k] * attractiveness(logits[k]);
        none *= 1.0 - out[k];
      }
      out[slots] = none;
      return;
    }
  }
}

void ChoiceModel::sample(std::span<const double> probabilities, std::span<const double> uniforms,
                         std::span<std::uint8_t> clicks) const {
  const std::size_t slots = clicks.size();
  assert(probabilities.size() == slots + 1 && uniforms.size() >= uniforms_needed(slots));
  if (!single_click()) {
    for (std::size_t k = 0; k < slots; ++k) clicks[k] = uniforms[k] < probabilities[k] ? 1 : 0;
    return;
  }
  std::fill(clicks.begin(), clicks.end(), std::uint8_t{0});
  // Inverse CDF over the L + 1 exclusive outcomes; rounding past the total
  // falls on the last outcome (no click).
  double total = 0.0;
  for (std::size_t k = 0; k < slots; ++k) {
    total += probabilities[k];
    if (uniforms[0] < total) {
      clicks[k] = 1;
      return;
    }
  }
}

}  // namespace recloop

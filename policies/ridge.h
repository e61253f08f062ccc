// SPDX-License-Identifier: Apache-2.0
// Disjoint online ridge regression: one independent linear model per catalogue
// item, as in the disjoint LinUCB of Li et al. 2010 (section 3.1). For item a,
// after updates (x_1, r_1) ... (x_n, r_n) on that item:
//   A_a = ridge * I + sum x_i x_i',   b_a = sum r_i x_i,   theta_a = A_a^-1 b_a.
// A_a^-1 and theta_a are maintained incrementally (O(d^2) per update, never an
// inversion). State is allocated lazily on an item's first update: an item
// never updated has none and answers with the prior, theta = 0 and
// A^-1 = I / ridge. Memory per updated item: d(d+1)/2 + 2d doubles.
//
// Widths can be read from a single-precision copy of every A^-1
// (use_single_precision_widths()): a decision over K candidates reads K
// packed inverses, d(d+1)/2 entries each, and waits on those bytes, so
// halving them is what makes the width cheap. The double matrices stay the
// master: updates are made on them and the copy is rounded from each updated
// matrix (round to nearest, a function of the double state alone), so the
// copy is never saved; a loaded model rebuilds it and computes bit-identical
// widths. Its widths carry the rounding error bounded in quadratic_form.h.
// Not thread-safe for update(); const members may be called concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <Eigen/Dense>

#include "core/types.h"

namespace recloop {

class ModelReader;
class ModelWriter;

class DisjointRidge {
 public:
  // What the model says about one feature vector x.
  struct Prediction {
    double mean = 0.0;   // x' theta
    double width = 0.0;  // sqrt(x' A^-1 x): the scale of the uncertainty of `mean`
  };

  // A copy of one item's state, for inspection and tests (not for hot paths).
  struct ArmState {
    Eigen::MatrixXd A_inv;  // A^-1, symmetric positive definite, d x d
    Eigen::VectorXd b;      // sum of reward * x
    Eigen::VectorXd theta;  // A^-1 b
    std::uint64_t updates = 0;
  };

  // Throws std::invalid_argument unless dim >= 1 and ridge is finite and > 0.
  DisjointRidge(int dim, double ridge);

  // For every candidate a of `context`, with x = joint_features(context, a) and
  // the model of context.items[a], in candidate order. `out` has
  // context.size() entries; context.feature_dim() must equal dim().
  // means() costs O(K d), predict() O(K d^2) (the widths).
  void means(const Context& context, std::span<double> out) const;
  void predict(const Context& context, std::span<Prediction> out) const;

  // The same for one feature vector `x` of length dim().
  Prediction predict(ItemId item, const Eigen::Ref<const Eigen::VectorXd>& x) const;

  // From now on, predict() computes widths from a single-precision copy of
  // every A^-1 (built here from the double state, then rounded again from
  // every updated matrix): half the bytes per width, relative error of
  // x'A^-1x up to 2^-24 x'|A^-1|x / x'A^-1x (quadratic_form.h). Costs
  // d(d+1)/2 floats per item and a rounding pass per update. Idempotent; a
  // no-op when 2 / ridge exceeds the float range (entries could overflow).
  // Entries below float's normal range (2^-126) lose relative precision but
  // err by at most 2^-150 each.
  void use_single_precision_widths();
  bool single_precision_widths() const { return single_; }

  // One ridge-regression step on `item` with features `x` (length dim(),
  // checked) and observed `reward` (finite, checked).
  void update(ItemId item, const Eigen::Ref<const Eigen::VectorXd>& x, double reward);
  // The same on candidate `action` of `context`: the model of
  // context.items[action], x = joint_features(context, action).
  void update(const Context& context, ActionId action, double reward);
  // One step on every candidate of `context`, each with its own target
  // (targets.size() == context.size(), checked): how regression targets for
  // off-policy learning (IPS, DR) are applied.
  void update_all(const Context& context, std::span<const double> targets);

  // The state of `item`, or nullopt if it was never updated.
  std::optional<ArmState> state(ItemId item) const;
  bool has_state(ItemId item) const { return slots_.count(item) != 0; }
  // Number of items with state (items updated at least once).
  std::size_t arm_count() const { return slots_.size(); }
  int dim() const { return dim_; }
  double ridge() const { return ridge_; }

  // Writes dim, ridge and every item's state (core/model_io.h), items in slot
  // order, i.e. the order of their first update. load() restores the same
  // slots, so a reloaded model computes bit-identical results, and saving it
  // again writes identical bytes.
  void save(ModelWriter& out) const;
  // Reads what save() wrote. Throws recloop::Error, naming the field, on
  // truncated or inconsistent data (array sizes, repeated items, bad dim or ridge).
  static DisjointRidge load(ModelReader& in);
  // load() for a policy whose config says `ridge`: also refuses a model saved
  // with another ridge, naming `owner` (the policy) in the error.
  static DisjointRidge load(ModelReader& in, double ridge, std::string_view owner);

 private:
  static constexpr std::uint32_t kNoSlot = ~std::uint32_t{0};
  std::uint32_t slot(ItemId item) const;
  std::size_t packed_size() const;

  int dim_;
  double ridge_;
  std::unordered_map<ItemId, std::uint32_t> slots_;  // item -> index into the arrays below
  // One entry per slot, kept as separate arrays: means() reads only theta_,
  // which stays small enough for L2 even for a large catalogue.
  std::vector<double> theta_;  // d per slot
  std::vector<double> b_;      // d per slot
  // d(d+1)/2 per slot: the upper triangle of A^-1, packed column by column
  // (column j holds rows 0..j). Half the memory of the full matrix, and read
  // front to back by the width computation.
  std::vector<double> A_inv_;
  // With single_: A_inv_ rounded to float in the doubled layout of
  // round_to_doubled_single() (quadratic_form.h); empty otherwise.
  bool single_ = false;
  std::vector<float> A_inv_single_;
  std::vector<std::uint64_t> updates_;
  std::vector<double> k_;  // update()'s workspace, A^-1 x
};

}  // namespace recloop

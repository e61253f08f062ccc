// SPDX-License-Identifier: Apache-2.0
// The linear feature map of state-action pairs shared by the linear
// value-based methods (LSTD-Q/LSPI, FQE, SlateQ's item-wise Q, BCQ's Q):
//
//   phi(s, a) = [ 1 ; u ; x_a ; vec(x_a u^T) ]
//
// with u = context.user (length U) and x_a = context.actions.col(a) (length
// A), so dim() = 1 + U + A + U A. The outer product lets Q depend on how the
// state and the item interact (fatigue of the item's category, interest in
// its features), which a sum of separate state and item terms cannot; the
// state-only block lets Q carry the state's value. vec() stacks the columns of
// x_a u^T, so entry 1 + U + A + j A + i is x_a[i] u[j].
//
// Thread safety: immutable after construction; write() may be called
// concurrently.
#pragma once

#include <Eigen/Dense>

#include "core/types.h"

namespace recloop {

class StateActionFeatures {
 public:
  // Throws std::invalid_argument for a negative dimension.
  StateActionFeatures(int user_dim, int action_dim);

  int user_dim() const { return user_dim_; }
  int action_dim() const { return action_dim_; }
  int dim() const { return 1 + user_dim_ + action_dim_ + user_dim_ * action_dim_; }

  // Writes phi(context, action) into out (length dim()). Asserts that the
  // context has user_dim user rows and action_dim action rows and that action
  // is a candidate.
  void write(const Context& context, ActionId action, Eigen::Ref<Eigen::VectorXd> out) const;
  Eigen::VectorXd operator()(const Context& context, ActionId action) const;

 private:
  int user_dim_;
  int action_dim_;
};

}  // namespace recloop

// SPDX-License-Identifier: Apache-2.0
#include "core/state_action_features.h"

#include <cassert>
#include <stdexcept>
#include <string>

namespace recloop {

StateActionFeatures::StateActionFeatures(int user_dim, int action_dim)
    : user_dim_(user_dim), action_dim_(action_dim) {
  if (user_dim < 0 || action_dim < 0) {
    throw std::invalid_argument("state-action features: dimensions must be >= 0, got user " +
                                std::to_string(user_dim) + ", action " +
                                std::to_string(action_dim));
  }
}

void StateActionFeatures::write(const Context& context, ActionId action,
                                Eigen::Ref<Eigen::VectorXd> out) const {
  assert(context.user.size() == user_dim_);
  assert(context.actions.rows() == action_dim_);
  assert(action < context.size());
  assert(out.size() == dim());
  const auto x = context.actions.col(action);
  out[0] = 1.0;
  out.segment(1, user_dim_) = context.user;
  out.segment(1 + user_dim_, action_dim_) = x;
  // Column j of x u^T is u[j] x: contiguous blocks of length A.
  Eigen::Index offset = 1 + user_dim_ + action_dim_;
  for (int j = 0; j < user_dim_; ++j, offset += action_dim_) {
    out.segment(offset, action_dim_) = context.user[j] * x;
  }
}

Eigen::VectorXd StateActionFeatures::operator()(const Context& context, ActionId action) const {
  Eigen::VectorXd out(dim());
  write(context, action, out);
  return out;
}

}  // namespace recloop

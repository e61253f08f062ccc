// SPDX-License-Identifier: Apache-2.0
// Fuzzes the decision server's rank-request parser (feedback/rank_request.h):
// the input is one request body. Documented failure: RequestError. Any other
// exception, crash or sanitizer report is a finding. The fast parser and the
// tree parser must agree: both accept (with the same request) or both refuse.
// An accepted request must satisfy the parser's contract: dimensions from the
// schema, one finite feature column and one id per candidate, slots within
// 1 .. candidates, an event id of 1 .. kMaxRequestEventIdBytes bytes.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "feedback/rank_request.h"

namespace {

void fail(const char* what) {
  std::fprintf(stderr, "rank request contract violated: %s\n", what);
  std::abort();
}

// Both kinds of schema: every key in byte order (2 + 1 features), and by name.
const recloop::FeatureSchema& schema(bool by_name) {
  static const recloop::FeatureSchema keys = recloop::FeatureSchema::from_names({}, {}, 2, 1);
  static const recloop::FeatureSchema names =
      recloop::FeatureSchema::from_names({"age", "mobile", "hour"}, {"price", "new"}, 0, 0);
  return by_name ? names : keys;
}

void check(const recloop::RankRequest& r, const recloop::FeatureSchema& s) {
  const recloop::Context& c = r.context;
  if (c.user.size() != s.user_dim || c.actions.rows() != s.action_dim) fail("feature dimensions");
  if (c.size() == 0 || c.items.size() != r.ids.size() || c.actions.cols() != static_cast<long>(c.size())) {
    fail("candidates, ids and feature columns differ");
  }
  if (!c.user.allFinite() || !c.actions.allFinite()) fail("non-finite feature accepted");
  if (r.slots && (*r.slots < 1 || *r.slots > c.size())) fail("slots outside 1 .. candidates");
  if (r.event_id && (r.event_id->empty() || r.event_id->size() > recloop::kMaxRequestEventIdBytes)) {
    fail("event id length");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace recloop;
  if (size == 0) return 0;
  // The first byte picks the schema; the rest is the request body.
  const bool by_name = (data[0] & 1) != 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const FeatureSchema& s = schema(by_name);
  bool fast_ok = false, tree_ok = false;
  RankRequest fast, tree;
  try {
    fast = parse_rank_request(body, s);
    fast_ok = true;
  } catch (const RequestError&) {
  }
  try {
    tree = parse_rank_request_tree(body, s);
    tree_ok = true;
  } catch (const RequestError&) {
  }
  if (fast_ok != tree_ok) fail("the fast and tree parsers disagree on accepting the request");
  if (!fast_ok) return 0;
  check(fast, s);
  if (fast.context.user != tree.context.user || fast.context.actions != tree.context.actions ||
      fast.context.items != tree.context.items || fast.ids != tree.ids ||
      fast.event_id != tree.event_id || fast.slots != tree.slots || fast.baseline != tree.baseline ||
      fast.session != tree.session || fast.step != tree.step || fast.deferred != tree.deferred ||
      fast.skip_learning != tree.skip_learning) {
    fail("the fast and tree parsers give different requests");
  }
  return 0;
}

// SPDX-License-Identifier: Apache-2.0
// Rank requests: the JSON an application sends to `recloop serve`, parsed and
// validated into a RankRequest (the fields and the feature rules are
// documented in feedback/decision_server.h). Pure computation on untrusted
// text, kept apart from the server's sockets so it can be fuzzed on its own
// (fuzz/rank_request_fuzz.cc).
//
// Thread safety: the functions are reentrant; a RankParseBuffers belongs to
// one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/types.h"

namespace recloop {

// How request features become vectors (see the header comment).
struct FeatureSchema {
  std::vector<std::string> context_names;  // empty: all keys in byte-wise order
  std::vector<std::string> action_names;   // empty: all keys in byte-wise order
  int user_dim = 0;    // length of Context::user; = context_names.size() when names are given
  int action_dim = 0;  // rows of Context::actions; = action_names.size() when names are given
  // Builds a schema from name lists; an empty list leaves its dimension as given.
  // Throws ConfigError for an empty or repeated name.
  static FeatureSchema from_names(std::vector<std::string> context_names,
                                  std::vector<std::string> action_names, int user_dim,
                                  int action_dim);
};

// A request that cannot be answered; what() names the field and value.
class RequestError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RankRequest {
  std::optional<EventId> event_id;
  Context context;
  std::vector<nlohmann::json> ids;  // each candidate's "id" as given (string or integer)
  std::optional<std::size_t> slots;
  std::optional<nlohmann::json> baseline;  // the baseline candidate's id as given
  std::string session;                     // "sessionId"; empty = none
  std::uint32_t step = 0;                  // "step"
  bool deferred = false;                   // "deferActivation"
  bool skip_learning = false;              // "skipLearning"
};

// Longest event id a request may carry: room is left for the "/<slot>" suffix.
inline constexpr std::size_t kMaxRequestEventIdBytes = 200;

// Parses and validates one request. Throws RequestError for invalid JSON, a
// missing or wrong-typed field, a non-finite or non-numeric feature, a wrong
// number of features, no candidates, repeated candidate ids, slots outside
// 1 .. candidates, a baseline that is not a candidate, or an event id that is
// empty or longer than kMaxRequestEventIdBytes. Size limits are the caller's.
// A request in the usual form (plain ASCII strings without escapes, no key
// given twice, valid values) is read in one pass straight into the
// RankRequest, without a JSON tree; any other text, valid or not, goes to
// parse_rank_request_tree, so results and error messages are that parser's.
RankRequest parse_rank_request(std::string_view json, const FeatureSchema& schema);

// Buffers parse_rank_request reuses from one call to the next; one per thread.
struct RankParseBuffers {
  // One feature set's key -> value; the keys point into the request text.
  std::vector<std::pair<std::string_view, double>> features;
  std::vector<double> columns;  // action features, column after column
  std::vector<ItemId> items;    // sorted copy of the candidates' items, to find repeats
  std::vector<std::size_t> order;  // the reply's ranking order (DecisionServer)
};
RankRequest parse_rank_request(std::string_view json, const FeatureSchema& schema,
                               RankParseBuffers& buffers);

// The reference parser: builds the nlohmann::json tree, then checks it.
RankRequest parse_rank_request_tree(std::string_view json, const FeatureSchema& schema);

}  // namespace recloop

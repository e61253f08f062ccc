// SPDX-License-Identifier: Apache-2.0
// DSJSON, the Decision Service log format that Vowpal Wabbit reads with
// `vw --dsjson --cb_explore_adf`, in both directions: a DSJSON file into
// recloop decisions and rewards, and a recloop log into DSJSON lines.
//
// The format (one JSON object per line), as VW's reader interprets it. Checked
// against VowpalWabbit/vowpal_wabbit: vowpalwabbit/json_parser/src/
// parse_example_json.cc (DecisionServiceState, DefaultState, MultiState,
// LabelIndexState, parse_line_json), vowpalwabbit/json_parser/tests/
// dsjson_parser_test.cc (ParseDsjsonCb), the Python test test_dsjson, and the
// wiki page "DSJSON":
//   _label_cost         cost of the chosen action (= -reward); with the other
//   _label_probability  _label_* keys, VW attaches the label to the action
//   _label_Action       example _labelIndex when the "c" object ends, so these
//   _labelIndex         keys must come before "c". _label_Action is 1-based,
//                       _labelIndex is the 0-based position in c._multi.
//   o                   observations, e.g. [{"v":1,"EventId":"..","ActionTaken":false}]
//   Timestamp           "YYYY-MM-DDTHH:MM:SS[.fffffff]Z" (UTC)
//   Version             "1"
//   EventId             id of the decision
//   a                   1-based action ids, the chosen one first
//   c                   shared features; c._multi holds one object per action
//   p                   probabilities aligned with "a": p[0] is the chosen one's
//   VWState             {"m": model id}; ignored by VW's reader
//   _skipLearn          true: VW drops the line (no learning, no prediction)
// Unknown top-level keys, and keys starting with '_' inside "c" other than VW's
// reserved ones (_multi, _slots, _text, _tag, _inc, _a, _p, _label*, ...), are
// skipped by VW. A line without labels is a decision without reward; a line
// whose "a" is empty is skipped by VW in multi-line (ADF) mode.
//
// Import (read_dsjson):
//   features     Inside "c" (shared -> Context::user) and inside each _multi
//                entry (-> one column of Context::actions), every feature is
//                named by its path: nested objects join with '.', numbers in an
//                array get "[i]", objects inside an array add nothing (as in VW,
//                where they share the array's namespace). Values:
//                  number           the number
//                  string "v"       an indicator feature "path=v" with value 1
//                                   (one-hot over the values seen in the file,
//                                   where VW would hash key and value into one
//                                   feature; exact and collision-free)
//                  true / false     an indicator "path" with value 1 / 0
//                  null             nothing
//                Keys starting with '_' are not features. The columns are the
//                names seen anywhere in the file, shared names and action names
//                separately, in natural order (digit runs compare as numbers:
//                u2 < u10); a feature a line does not mention is 0. The order
//                depends only on the set of names, not on the order of lines.
//   candidates   c._multi, in order; action index = position in _multi. Item
//                ids (Context::items) come from an integer "_item" key in every
//                _multi entry when all have one, else are the positions 0..n-1.
//   decision     action = a[0] - 1, probability = p[0], pmf[a[k] - 1] = p[k];
//                event id = EventId, timestamp = Timestamp (0 when absent),
//                policy = the given name (default "dsjson").
//   reward       -_label_cost, timestamped like the decision; a line without
//                _label_cost is a decision without reward.
//   _skipLearn   A line with "_skipLearn": true is kept with policy
//                "<policy>_skip_learn", so `--logging-policy <policy>` (evaluate,
//                train) leaves it out as VW would, and export writes it back with
//                "_skipLearn": true.
// Every line is checked; the first problem throws recloop::Error
// "FILE:LINE: field 'F': what" (invalid JSON, missing EventId, c, c._multi, a
// or p, p[0] outside (0, 1], any p outside [0, 1], p not summing to 1, a and p
// of different lengths, a not a permutation of 1..n, a NaN or infinite cost,
// labels that contradict a / p, a repeated EventId, a malformed Timestamp, and
// the unsupported CCB / slates / pdrop fields). Blank lines are skipped.
//
// Export (export_dsjson): one line per stored decision, in storage order, with
// the keys in the order above. Shared features become namespace "User" with
// features u0, u1, ...; each candidate's features become namespace "Item" with
// features i0, i1, ... (namespaces start with different letters, so VW's -q UI
// crosses them) plus "_item": its catalogue id. "a" lists the chosen action
// first, then the others in index order, "p" the pmf in the same order. A
// decision stored without pmf (an imported log) gets the remaining mass spread
// evenly over the other candidates. Decisions with a reward get the _label_*
// keys and "o"; VWState.m is "<policy>/<model_version>"; _skipLearn is true
// for policies named "*_skip_learn". Numbers are written with 17 significant
// digits, so importing the export gives back the same doubles. Not exported:
// the truth column and the ranking slot (DSJSON's CB lines have one slot).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"
#include "logging/event_log.h"

namespace recloop {

// Policy-name suffix that marks decisions imported from "_skipLearn": true lines.
inline constexpr std::string_view kSkipLearnSuffix = "_skip_learn";

// One DSJSON line: a decision and, when the line was labelled, its reward.
struct DsjsonEvent {
  LoggedDecision logged;
  std::optional<double> reward;  // -_label_cost; empty for a decision without reward
  bool skip_learn = false;
};

struct DsjsonLog {
  std::vector<DsjsonEvent> events;
  std::vector<std::string> user_features;    // name of each Context::user entry
  std::vector<std::string> action_features;  // name of each Context::actions row
  std::size_t skipped_blank_lines = 0;
};

// Reads a DSJSON file (mapping and checks above). `name` is the file name used
// in error messages. Throws recloop::Error.
DsjsonLog read_dsjson(std::istream& in, const std::string& name, const std::string& policy = "dsjson");
DsjsonLog read_dsjson(const std::string& path, const std::string& policy = "dsjson");

// The labelled events of `log` as interactions, in file order (what
// estimators consume; skip-learn events included, with their policy name).
std::vector<Interaction> to_interactions(const DsjsonLog& log);

// Stores every event (decisions, and rewards where present) in `log`, in
// batches of `batch_size` events per transaction. Returns the number of
// decisions that were new.
std::size_t write_dsjson_events(EventLog& log, const DsjsonLog& imported, std::size_t batch_size = 2000);

// One DSJSON line (no trailing newline) for `event`, as export_dsjson writes it.
std::string to_dsjson_line(const DsjsonEvent& event);

// Every decision stored in the log at `log_path` with its reward (if any) and
// whole pmf, in storage order; skip_learn is set for "*_skip_learn" policies.
// With a non-empty `policy`, only that policy's decisions. Throws
// recloop::Error if the file does not exist or is not a recloop log.
void for_each_logged_event(const std::string& log_path, const std::function<void(const DsjsonEvent&)>& fn,
                           const std::string& policy = {});

struct DsjsonExportCounts {
  std::size_t lines = 0;       // decisions written
  std::size_t labelled = 0;    // of which with a reward
  std::size_t skip_learn = 0;  // of which marked "_skipLearn": true
};

// Writes the log at `log_path` to `out` as DSJSON, one line per decision.
DsjsonExportCounts export_dsjson(const std::string& log_path, std::ostream& out,
                                 const std::string& policy = {});

// "YYYY-MM-DDTHH:MM:SS.ffffffZ" for microseconds since the Unix epoch, and back
// (any number of fraction digits, truncated to microseconds; "Z" or "+HH:MM").
std::string format_dsjson_timestamp(std::int64_t timestamp_us);
std::optional<std::int64_t> parse_dsjson_timestamp(std::string_view text);

}  // namespace recloop

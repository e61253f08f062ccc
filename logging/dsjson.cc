// SPDX-License-Identifier: Apache-2.0
// DSJSON import and export; the format and the mapping are described in
// logging/dsjson.h.
#include "logging/dsjson.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/codec.h"
#include "core/error.h"
#include "logging/sqlite_statement.h"

namespace recloop {
namespace {

using Json = nlohmann::json;
// Keeps keys in insertion order, so the _label_* keys precede "c" as VW needs.
using OrderedJson = nlohmann::ordered_json;

// p[0] and _label_probability may differ by this much (a logger that rounds
// one of them to float); the stored probability is p[0].
constexpr double kLabelProbabilityTolerance = 1e-6;
// |sum(p) - 1| allowed: probabilities written with about 7 significant digits
// (float) sum to 1 within n * 6e-8; 1e-4 leaves room for hundreds of actions.
constexpr double kPmfSumTolerance = 1e-4;

// A feature name and its value, as one line mentions it.
using Features = std::vector<std::pair<std::string, double>>;

// Natural order: runs of digits compare as numbers, so "u2" < "u10".
bool natural_less(const std::string& a, const std::string& b) {
  std::size_t i = 0, j = 0;
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  while (i < a.size() && j < b.size()) {
    if (is_digit(a[i]) && is_digit(b[j])) {
      std::size_t i_end = i, j_end = j;
      while (i_end < a.size() && is_digit(a[i_end])) ++i_end;
      while (j_end < b.size() && is_digit(b[j_end])) ++j_end;
      // Compare without leading zeros: longer run = larger number.
      std::size_t i_start = i, j_start = j;
      while (i_start + 1 < i_end && a[i_start] == '0') ++i_start;
      while (j_start + 1 < j_end && b[j_start] == '0') ++j_start;
      const std::size_t i_len = i_end - i_start, j_len = j_end - j_start;
      if (i_len != j_len) return i_len < j_len;
      const int cmp = a.compare(i_start, i_len, b, j_start, j_len);
      if (cmp != 0) return cmp < 0;
      if (i_end - i != j_end - j) return i_end - i < j_end - j;  // "01" after "1"
      i = i_end;
      j = j_end;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

struct NaturalLess {
  bool operator()(const std::string& a, const std::string& b) const { return natural_less(a, b); }
};

// What one line says, before the file's feature columns are known.
struct ParsedLine {
  std::size_t line = 0;
  std::string event_id;
  std::int64_t timestamp_us = 0;
  std::vector<std::uint32_t> actions;  // "a": 1-based, chosen first
  std::vector<double> probabilities;   // "p", aligned with actions
  std::optional<double> cost;          // _label_cost
  bool skip_learn = false;
  Features shared;
  std::vector<Features> candidates;    // one per c._multi entry
  std::vector<ItemId> items;           // "_item" of every entry, or empty
};

class LineError {
 public:
  LineError(const std::string& name, std::size_t line) : where_(name + ":" + std::to_string(line)) {}
  Error field(const std::string& field, const std::string& what) const {
    return Error(where_ + ": field '" + field + "': " + what);
  }
  Error line(const std::string& what) const { return Error(where_ + ": " + what); }

 private:
  std::string where_;
};

// "u7": a prefix and a number (spelled out to dodge GCC 12's -Wrestrict false
// positive on a one-character literal + std::string).
std::string numbered(char prefix, long long index) {
  std::string name(1, prefix);
  name += std::to_string(index);
  return name;
}

std::string number_text(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

// Adds the features of `value`, found under the key path `name`, to `out`.
// `field` is the same path as written in the file, for error messages.
void flatten(const Json& value, const std::string& name, const std::string& field, Features& out,
             const LineError& error);

void flatten_object(const Json& object, const std::string& prefix, const std::string& field_prefix,
                    Features& out, const LineError& error) {
  for (const auto& [key, value] : object.items()) {
    if (!key.empty() && key.front() == '_') continue;  // _multi, _tag, _item...: not features
    const std::string name = prefix.empty() ? key : prefix + "." + key;
    flatten(value, name, field_prefix + "." + key, out, error);
  }
}

void flatten(const Json& value, const std::string& name, const std::string& field, Features& out,
             const LineError& error) {
  if (value.is_null()) return;
  if (value.is_number()) {
    const double x = value.get<double>();
    if (!std::isfinite(x)) throw error.field(field, "feature value is not finite");
    out.emplace_back(name, x);
  } else if (value.is_boolean()) {
    out.emplace_back(name, value.get<bool>() ? 1.0 : 0.0);
  } else if (value.is_string()) {
    out.emplace_back(name + "=" + value.get<std::string>(), 1.0);
  } else if (value.is_object()) {
    flatten_object(value, name, field, out, error);
  } else {  // array: numbers by position, objects share the array's namespace
    for (std::size_t i = 0; i < value.size(); ++i) {
      const Json& element = value[i];
      const std::string element_field = field + "[" + std::to_string(i) + "]";
      if (element.is_null()) continue;
      if (element.is_number()) {
        flatten(element, name + "[" + std::to_string(i) + "]", element_field, out, error);
      } else if (element.is_object()) {
        flatten_object(element, name, element_field, out, error);
      } else {
        throw error.field(element_field,
                          "an array may hold numbers and objects only (as in VW's reader)");
      }
    }
  }
}

double number_field(const Json& line, const char* key, const LineError& error) {
  const Json& value = line.at(key);
  if (!value.is_number()) throw error.field(key, "expected a number, got " + value.dump());
  const double x = value.get<double>();
  if (!std::isfinite(x)) throw error.field(key, "not finite");
  return x;
}

ParsedLine parse_line(const std::string& text, std::size_t line_number, const std::string& name) {
  const LineError error(name, line_number);
  Json line;
  try {
    line = Json::parse(text);
  } catch (const Json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
    std::string what = e.what();
    if (const auto at = what.find("] "); what.front() == '[' && at != std::string::npos) {
      what.erase(0, at + 2);  // the library's "[json.exception.parse_error.101] " tag
    }
    if (const auto at = what.find("at line 1, column "); at != std::string::npos) {
      what.replace(at, 18, "at column ");  // one line per record: the line is ours
    }
    throw error.line("invalid JSON: " + what);
  }
  if (!line.is_object()) throw error.line("expected a JSON object, got " + std::string(line.type_name()));

  ParsedLine parsed;
  parsed.line = line_number;
  for (const char* unsupported : {"_outcomes", "pdf", "_label_ca"}) {
    if (line.contains(unsupported)) {
      throw error.field(unsupported,
                        "conditional / continuous-action (CCB, slates, CATS) lines are not supported");
    }
  }
  if (line.contains("pdrop") && !(line["pdrop"].is_number() && line["pdrop"].get<double>() == 0.0)) {
    throw error.field("pdrop", "dropped-event weighting (pdrop other than 0) is not supported");
  }
  if (line.contains("Version") && line["Version"] != "1") {
    throw error.field("Version", "expected \"1\", got " + line["Version"].dump());
  }

  // EventId and Timestamp.
  if (!line.contains("EventId")) throw error.field("EventId", "missing");
  if (!line["EventId"].is_string() || line["EventId"].get<std::string>().empty()) {
    throw error.field("EventId", "expected a non-empty string, got " + line["EventId"].dump());
  }
  parsed.event_id = line["EventId"].get<std::string>();
  if (line.contains("Timestamp")) {
    const Json& stamp = line["Timestamp"];
    const auto us = stamp.is_string() ? parse_dsjson_timestamp(stamp.get<std::string>()) : std::nullopt;
    if (!us) throw error.field("Timestamp", "expected \"YYYY-MM-DDTHH:MM:SS[.fff]Z\", got " + stamp.dump());
    parsed.timestamp_us = *us;
  }
  if (line.contains("_skipLearn")) {
    if (!line["_skipLearn"].is_boolean()) {
      throw error.field("_skipLearn", "expected true or false, got " + line["_skipLearn"].dump());
    }
    parsed.skip_learn = line["_skipLearn"].get<bool>();
  }

  // Features: c and c._multi.
  if (!line.contains("c")) throw error.field("c", "missing");
  const Json& context = line["c"];
  if (!context.is_object()) {
    throw error.field("c", "expected an object, got " + std::string(context.type_name()));
  }
  if (context.contains("_slots")) {
    throw error.field("c._slots", "conditional / slates lines are not supported");
  }
  if (!context.contains("_multi")) throw error.field("c._multi", "missing (one entry per action)");
  const Json& multi = context["_multi"];
  if (!multi.is_array() || multi.empty()) {
    throw error.field("c._multi", "expected a non-empty array, got " + multi.dump());
  }
  flatten_object(context, "", "c", parsed.shared, error);
  const std::size_t n = multi.size();
  parsed.candidates.resize(n);
  std::size_t with_item = 0;
  std::vector<ItemId> items(n, 0);
  for (std::size_t k = 0; k < n; ++k) {
    const std::string field = "c._multi[" + std::to_string(k) + "]";
    if (!multi[k].is_object()) throw error.field(field, "expected an object, got " + multi[k].dump());
    flatten_object(multi[k], "", field, parsed.candidates[k], error);
    if (multi[k].contains("_item")) {
      const Json& item = multi[k]["_item"];
      if (!item.is_number_unsigned()) {
        throw error.field(field + "._item", "expected a non-negative integer, got " + item.dump());
      }
      items[k] = item.get<ItemId>();
      ++with_item;
    }
  }
  if (with_item == n) parsed.items = std::move(items);

  // Actions and probabilities.
  if (!line.contains("a")) throw error.field("a", "missing (the action ids, chosen first)");
  if (!line.contains("p")) throw error.field("p", "missing (the probabilities aligned with a)");
  const Json& a = line["a"];
  const Json& p = line["p"];
  if (!a.is_array()) throw error.field("a", "expected an array, got " + a.dump());
  if (!p.is_array()) throw error.field("p", "expected an array, got " + p.dump());
  if (a.size() != p.size()) {
    throw error.field("p", "has " + std::to_string(p.size()) + " entries but a has " +
                               std::to_string(a.size()));
  }
  if (a.size() != n) {
    throw error.field("a", "has " + std::to_string(a.size()) + " entries but c._multi has " + std::to_string(n) +
                               " actions");
  }
  std::vector<bool> seen(n, false);
  double sum = 0.0;
  for (std::size_t k = 0; k < n; ++k) {
    const std::string a_field = "a[" + std::to_string(k) + "]";
    if (!a[k].is_number_unsigned() || a[k].get<std::uint64_t>() < 1 || a[k].get<std::uint64_t>() > n) {
      throw error.field(a_field, "expected an action id in 1.." + std::to_string(n) + ", got " + a[k].dump());
    }
    const auto action = a[k].get<std::uint32_t>();
    if (seen[action - 1]) throw error.field(a_field, "action " + std::to_string(action) + " is listed twice");
    seen[action - 1] = true;
    parsed.actions.push_back(action);

    const std::string p_field = "p[" + std::to_string(k) + "]";
    if (!p[k].is_number()) throw error.field(p_field, "expected a number, got " + p[k].dump());
    const double probability = p[k].get<double>();
    if (k == 0 && !(probability > 0.0 && probability <= 1.0)) {
      throw error.field(p_field, "probability of the chosen action " + number_text(probability) +
                                     " is outside (0, 1]");
    }
    if (!(probability >= 0.0 && probability <= 1.0)) {
      throw error.field(p_field, "probability " + number_text(probability) + " is outside [0, 1]");
    }
    parsed.probabilities.push_back(probability);
    sum += probability;
  }
  if (std::abs(sum - 1.0) > kPmfSumTolerance) {
    throw error.field("p", "probabilities sum to " + number_text(sum) + ", not 1");
  }

  // Labels: must agree with a and p; the cost becomes the reward.
  if (line.contains("_label_Action")) {
    const double action = number_field(line, "_label_Action", error);
    if (action != parsed.actions.front()) {
      throw error.field("_label_Action", "is " + number_text(action) + " but a[0] (the chosen action) is " +
                                             std::to_string(parsed.actions.front()));
    }
  }
  if (line.contains("_labelIndex")) {
    const double index = number_field(line, "_labelIndex", error);
    if (index != parsed.actions.front() - 1.0) {
      throw error.field("_labelIndex", "is " + number_text(index) + " but a[0] - 1 (the chosen action's index) is " +
                                           std::to_string(parsed.actions.front() - 1));
    }
  }
  if (line.contains("_label_probability")) {
    const double probability = number_field(line, "_label_probability", error);
    if (!(probability > 0.0 && probability <= 1.0)) {
      throw error.field("_label_probability", number_text(probability) + " is outside (0, 1]");
    }
    if (std::abs(probability - parsed.probabilities.front()) > kLabelProbabilityTolerance) {
      throw error.field("_label_probability", "is " + number_text(probability) + " but p[0] is " +
                                                  number_text(parsed.probabilities.front()));
    }
  }
  if (line.contains("_label_cost")) {
    const Json& cost = line["_label_cost"];
    if (cost.is_string()) {
      std::string text = cost.get<std::string>();
      std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
      if (text == "nan") throw error.field("_label_cost", "cost is NaN");
    }
    parsed.cost = number_field(line, "_label_cost", error);
  }
  return parsed;
}

// Column index of every feature name, in natural order.
std::map<std::string, int, NaturalLess> number_columns(const std::map<std::string, int, NaturalLess>& names) {
  std::map<std::string, int, NaturalLess> columns = names;
  int next = 0;
  for (auto& [name, index] : columns) index = next++;
  return columns;
}

}  // namespace

DsjsonLog read_dsjson(std::istream& in, const std::string& name, const std::string& policy) {
  std::vector<ParsedLine> lines;
  std::unordered_map<std::string, std::size_t> line_of_event;
  std::map<std::string, int, NaturalLess> shared_names, action_names;
  DsjsonLog log;
  std::string text;
  std::size_t line_number = 0;
  while (std::getline(in, text)) {
    ++line_number;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.find_first_not_of(" \t") == std::string::npos) {
      ++log.skipped_blank_lines;
      continue;
    }
    ParsedLine parsed = parse_line(text, line_number, name);
    const auto [it, fresh] = line_of_event.emplace(parsed.event_id, line_number);
    if (!fresh) {
      throw Error(name + ":" + std::to_string(line_number) + ": field 'EventId': '" + parsed.event_id +
                  "' repeats line " + std::to_string(it->second));
    }
    for (const auto& feature : parsed.shared) shared_names.emplace(feature.first, 0);
    for (const auto& candidate : parsed.candidates) {
      for (const auto& feature : candidate) action_names.emplace(feature.first, 0);
    }
    lines.push_back(std::move(parsed));
  }
  if (in.bad()) throw Error(name + ": read failed");
  const auto shared_columns = number_columns(shared_names);
  const auto action_columns = number_columns(action_names);
  if (shared_columns.size() > kMaxFeatureDim || action_columns.size() > kMaxFeatureDim) {
    throw Error(name + ": " + std::to_string(shared_columns.size()) + " shared and " +
                std::to_string(action_columns.size()) + " action feature columns; at most " +
                std::to_string(kMaxFeatureDim) + " each (too many distinct string values?)");
  }
  for (const auto& [feature, index] : shared_columns) log.user_features.push_back(feature);
  for (const auto& [feature, index] : action_columns) log.action_features.push_back(feature);

  log.events.reserve(lines.size());
  for (const ParsedLine& parsed : lines) {
    DsjsonEvent& event = log.events.emplace_back();
    LoggedDecision& logged = event.logged;
    Context& context = logged.context;
    const std::size_t n = parsed.candidates.size();
    context.user = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(shared_columns.size()));
    for (const auto& [feature, value] : parsed.shared) context.user(shared_columns.at(feature)) += value;
    context.actions = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(action_columns.size()),
                                            static_cast<Eigen::Index>(n));
    for (std::size_t k = 0; k < n; ++k) {
      for (const auto& [feature, value] : parsed.candidates[k]) {
        context.actions(action_columns.at(feature), static_cast<Eigen::Index>(k)) += value;
      }
    }
    if (parsed.items.empty()) {
      for (std::size_t k = 0; k < n; ++k) context.items.push_back(k);
    } else {
      context.items = parsed.items;
    }
    Decision& decision = logged.decision;
    decision.event_id = parsed.event_id;
    decision.action = parsed.actions.front() - 1;
    decision.item = context.items[decision.action];
    decision.pmf.assign(n, 0.0);
    for (std::size_t k = 0; k < n; ++k) decision.pmf[parsed.actions[k] - 1] = parsed.probabilities[k];
    decision.probability = decision.pmf[decision.action];
    decision.policy = parsed.skip_learn ? policy + std::string(kSkipLearnSuffix) : policy;
    logged.timestamp_us = parsed.timestamp_us;
    if (parsed.cost) event.reward = *parsed.cost == 0.0 ? 0.0 : -*parsed.cost;
    event.skip_learn = parsed.skip_learn;
  }
  return log;
}

DsjsonLog read_dsjson(const std::string& path, const std::string& policy) {
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot open");
  return read_dsjson(in, path, policy);
}

std::vector<Interaction> to_interactions(const DsjsonLog& log) {
  std::vector<Interaction> out;
  for (const DsjsonEvent& event : log.events) {
    if (!event.reward) continue;
    const LoggedDecision& logged = event.logged;
    Interaction& interaction = out.emplace_back();
    interaction.event_id = logged.decision.event_id;
    interaction.context = logged.context;
    interaction.action = logged.decision.action;
    interaction.probability = logged.decision.probability;
    interaction.reward = *event.reward;
    interaction.truth = logged.truth;
    interaction.policy = logged.decision.policy;
    interaction.slot = logged.decision.slot;
  }
  return out;
}

std::size_t write_dsjson_events(EventLog& log, const DsjsonLog& imported, std::size_t batch_size) {
  if (batch_size == 0) throw std::logic_error("write_dsjson_events: batch size must be positive");
  std::size_t fresh = 0;
  std::vector<LoggedDecision> decisions;
  std::vector<Reward> rewards;
  for (std::size_t begin = 0; begin < imported.events.size(); begin += batch_size) {
    const std::size_t end = std::min(imported.events.size(), begin + batch_size);
    decisions.clear();
    rewards.clear();
    for (std::size_t i = begin; i < end; ++i) {
      const DsjsonEvent& event = imported.events[i];
      decisions.push_back(event.logged);
      if (event.reward) {
        rewards.push_back(Reward{event.logged.decision.event_id, *event.reward, event.logged.timestamp_us});
      }
    }
    const auto result = log.write(decisions, rewards);
    const auto& is_new = result.decision_is_new;
    fresh += static_cast<std::size_t>(std::count(is_new.begin(), is_new.end(), true));
  }
  return fresh;
}

std::string to_dsjson_line(const DsjsonEvent& event) {
  const LoggedDecision& logged = event.logged;
  const Decision& decision = logged.decision;
  const Context& context = logged.context;
  const std::size_t n = context.size();

  // Chosen action first, then the others in index order; p aligned.
  std::vector<std::uint32_t> order{decision.action};
  for (std::uint32_t k = 0; k < n; ++k) {
    if (k != decision.action) order.push_back(k);
  }
  std::vector<double> pmf = decision.pmf;
  if (pmf.size() != n) {  // only the chosen probability is known: spread the rest evenly
    pmf.assign(n, n > 1 ? (1.0 - decision.probability) / static_cast<double>(n - 1) : 0.0);
    pmf[decision.action] = decision.probability;
  }

  OrderedJson line;
  if (event.reward) {
    line["_label_cost"] = *event.reward == 0.0 ? 0.0 : -*event.reward;
    line["_label_probability"] = decision.probability;
    line["_label_Action"] = decision.action + 1;
    line["_labelIndex"] = decision.action;
    line["o"] = OrderedJson::array(
        {OrderedJson{{"v", *event.reward}, {"EventId", decision.event_id}, {"ActionTaken", false}}});
  }
  line["Timestamp"] = format_dsjson_timestamp(logged.timestamp_us);
  line["Version"] = "1";
  line["EventId"] = decision.event_id;
  OrderedJson& a = line["a"] = OrderedJson::array();
  for (std::uint32_t k : order) a.push_back(k + 1);

  OrderedJson& c = line["c"] = OrderedJson::object();
  if (context.user.size() > 0) {
    OrderedJson& user = c["User"] = OrderedJson::object();
    for (Eigen::Index j = 0; j < context.user.size(); ++j) user[numbered('u', j)] = context.user(j);
  }
  OrderedJson& multi = c["_multi"] = OrderedJson::array();
  for (std::size_t k = 0; k < n; ++k) {
    OrderedJson entry;
    entry["_item"] = context.items[k];
    if (context.actions.rows() > 0) {
      OrderedJson& item = entry["Item"] = OrderedJson::object();
      for (Eigen::Index j = 0; j < context.actions.rows(); ++j) {
        item[numbered('i', j)] = context.actions(j, static_cast<Eigen::Index>(k));
      }
    }
    multi.push_back(std::move(entry));
  }
  OrderedJson& p = line["p"] = OrderedJson::array();
  for (std::uint32_t k : order) p.push_back(pmf[k]);
  line["VWState"] = OrderedJson{{"m", decision.policy + "/" + std::to_string(decision.model_version)}};
  line["_skipLearn"] = event.skip_learn;
  return line.dump();
}

void for_each_logged_event(const std::string& log_path, const std::function<void(const DsjsonEvent&)>& fn,
                           const std::string& policy) {
  if (!std::filesystem::is_regular_file(log_path)) throw Error("event log '" + log_path + "': no such file");
  { EventLog check(log_path); }  // refuses other schema versions, migrates version 1
  SqliteDatabase db(log_path);
  std::string sql =
      "SELECT d.event_id, d.timestamp_us, d.policy, d.model_version, d.action, d.item, d.probability, "
      "d.pmf, d.context, d.slot, r.reward FROM decisions AS d LEFT JOIN rewards AS r "
      "ON r.event_id = d.event_id";
  if (!policy.empty()) sql += " WHERE d.policy = ?1";
  sql += " ORDER BY d.seq";
  SqliteStatement read(db, sql);
  StatementReset reset(read);
  if (!policy.empty()) read.bind_text(1, policy);
  DsjsonEvent event;
  while (read.step()) {
    LoggedDecision& logged = event.logged;
    Decision& decision = logged.decision;
    decision.event_id.assign(read.column_text(0));
    auto corrupt = [&](const char* column) {
      return Error("event log '" + log_path + "': event '" + decision.event_id + "': corrupt " + column +
                   " column");
    };
    logged.timestamp_us = read.column_int64(1);
    decision.policy.assign(read.column_text(2));
    decision.model_version = static_cast<std::uint64_t>(read.column_int64(3));
    const std::int64_t action = read.column_int64(4);
    decision.item = static_cast<ItemId>(read.column_int64(5));
    decision.probability = read.column_double(6);
    auto pmf = decode_doubles(read.column_blob(7));
    auto context = decode_context(read.column_blob(8));
    if (!context) throw corrupt("context");
    logged.context = std::move(*context);
    if (!pmf || (!pmf->empty() && pmf->size() != logged.context.size())) throw corrupt("pmf");
    decision.pmf = std::move(*pmf);
    if (action < 0 || static_cast<std::uint64_t>(action) >= logged.context.size()) throw corrupt("action");
    decision.action = static_cast<ActionId>(action);
    if (!(decision.probability > 0.0 && decision.probability <= 1.0)) throw corrupt("probability");
    decision.slot = static_cast<std::uint32_t>(read.column_int64(9));
    logged.truth.clear();
    event.reward.reset();
    if (!read.column_is_null(10)) event.reward = read.column_double(10);
    event.skip_learn = decision.policy.size() > kSkipLearnSuffix.size() &&
                       decision.policy.ends_with(kSkipLearnSuffix);
    fn(event);
  }
}

DsjsonExportCounts export_dsjson(const std::string& log_path, std::ostream& out, const std::string& policy) {
  DsjsonExportCounts counts;
  for_each_logged_event(
      log_path,
      [&](const DsjsonEvent& event) {
        out << to_dsjson_line(event) << '\n';
        ++counts.lines;
        if (event.reward) ++counts.labelled;
        if (event.skip_learn) ++counts.skip_learn;
      },
      policy);
  out.flush();
  if (!out) throw Error("DSJSON export of '" + log_path + "': write failed");
  return counts;
}

std::string format_dsjson_timestamp(std::int64_t timestamp_us) {
  using namespace std::chrono;
  const sys_time<microseconds> time{microseconds{timestamp_us}};
  const sys_days day = floor<days>(time);
  const year_month_day date{day};
  std::int64_t of_day = (time - day).count();  // microseconds since midnight, >= 0
  const auto micros = of_day % 1'000'000;
  of_day /= 1'000'000;
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()),
                static_cast<long long>(of_day / 3600), static_cast<long long>(of_day / 60 % 60),
                static_cast<long long>(of_day % 60), static_cast<long long>(micros));
  return buffer;
}

std::optional<std::int64_t> parse_dsjson_timestamp(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.f...][Z|+HH:MM|-HH:MM]
  auto digits = [&](std::size_t at, std::size_t count, int& out) {
    if (at + count > text.size()) return false;
    out = 0;
    for (std::size_t i = at; i < at + count; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != ' ') ||
      text[13] != ':' || text[16] != ':' || !digits(0, 4, year) || !digits(5, 2, month) || !digits(8, 2, day) ||
      !digits(11, 2, hour) || !digits(14, 2, minute) || !digits(17, 2, second)) {
    return std::nullopt;
  }
  std::size_t at = 19;
  std::int64_t micros = 0;
  if (at < text.size() && text[at] == '.') {
    ++at;
    int count = 0;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      if (count < 6) micros = micros * 10 + (text[at] - '0');
      ++count;
      ++at;
    }
    if (count == 0) return std::nullopt;
    for (int d = count; d < 6; ++d) micros *= 10;
  }
  std::int64_t offset_minutes = 0;
  const std::string_view zone = text.substr(at);
  if (zone == "Z" || zone.empty()) {
    // UTC
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    int zone_hours = 0, zone_minutes = 0;
    if (!digits(at + 1, 2, zone_hours) || !digits(at + 4, 2, zone_minutes)) return std::nullopt;
    offset_minutes = (zone[0] == '+' ? 1 : -1) * (zone_hours * 60 + zone_minutes);
  } else {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  const std::int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  const std::int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  return seconds * 1'000'000 + micros;
}

}  // namespace recloop

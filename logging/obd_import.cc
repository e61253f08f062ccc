// SPDX-License-Identifier: Apache-2.0
#include "logging/obd_import.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <map>
#include <system_error>

#include "core/error.h"
#include "logging/csv_file.h"

namespace fs = std::filesystem;

namespace recloop {
namespace {

constexpr int kCategoricalColumns = 3;  // item_feature_1..3
constexpr int kUserColumns = 4;         // user_feature_0..3
// Rows named in a propensity error before "... and N more".
constexpr std::size_t kRowsNamed = 10;

// Category value -> index, numbered in sorted order of the value strings.
using Categories = std::map<std::string, int>;

void number_sorted(Categories& categories) {
  int next = 0;
  for (auto& [value, index] : categories) index = next++;
}

template <typename T>
bool parse_int(std::string_view text, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

struct ItemTable {
  std::vector<ItemId> ids;       // sorted
  Eigen::MatrixXd features;      // one column per item
};

ItemTable read_items(const std::string& path) {
  CsvFile csv(path);
  const std::size_t id_column = csv.column("item_id");
  const std::size_t float_column = csv.column("item_feature_0");
  std::size_t categorical[kCategoricalColumns];
  for (int c = 0; c < kCategoricalColumns; ++c) {
    categorical[c] = csv.column("item_feature_" + std::to_string(c + 1));
  }
  struct Row {
    ItemId id;
    double value;
    std::string categories[kCategoricalColumns];
  };
  std::vector<Row> rows;
  Categories seen[kCategoricalColumns];
  std::vector<std::string> fields;
  while (csv.next(fields)) {
    Row row;
    if (!parse_int(fields[id_column], row.id)) {
      throw Error(csv.where() + ": malformed row: item_id '" + fields[id_column] + "'");
    }
    row.value = parse_double(fields[float_column], csv.where(), "item_feature_0");
    for (int c = 0; c < kCategoricalColumns; ++c) {
      row.categories[c] = fields[categorical[c]];
      seen[c].emplace(row.categories[c], 0);
    }
    rows.push_back(std::move(row));
  }
  if (rows.empty()) throw Error(path + ": no items");
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.id < b.id; });
  for (std::size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].id == rows[i - 1].id) {
      throw Error(path + ": item_id " + std::to_string(rows[i].id) + " appears twice");
    }
  }
  int dim = 1;
  int offset[kCategoricalColumns];
  for (int c = 0; c < kCategoricalColumns; ++c) {
    number_sorted(seen[c]);
    offset[c] = dim;
    dim += static_cast<int>(seen[c].size());
  }
  ItemTable table;
  table.features = Eigen::MatrixXd::Zero(dim, static_cast<Eigen::Index>(rows.size()));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto col = static_cast<Eigen::Index>(i);
    table.ids.push_back(rows[i].id);
    table.features(0, col) = rows[i].value;
    for (int c = 0; c < kCategoricalColumns; ++c) {
      table.features(offset[c] + seen[c].at(rows[i].categories[c]), col) = 1.0;
    }
  }
  return table;
}

std::string campaign_file(const ObdFolder& folder) {
  const fs::path named = fs::path(folder.path) / (folder.campaign + ".csv");
  if (fs::is_regular_file(named)) return named.string();
  // A campaign folder holds exactly one data file besides item_context.csv.
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator(folder.path)) {
    if (entry.path().extension() == ".csv" && entry.path().filename() != "item_context.csv") {
      found.push_back(entry.path());
    }
  }
  if (found.size() != 1) {
    throw Error(folder.path + ": expected " + named.filename().string() +
                " (or exactly one data .csv besides item_context.csv)");
  }
  return found.front().string();
}

}  // namespace

std::int64_t parse_obd_timestamp(std::string_view text, const std::string& where) {
  // YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM|-HH:MM]
  auto bad = [&]() {
    return Error(where + ": malformed row: timestamp '" + std::string(text) + "'");
  };
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' || (text[10] != ' ' && text[10] != 'T') ||
      text[13] != ':' || text[16] != ':') {
    throw bad();
  }
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!parse_int(text.substr(0, 4), year) || !parse_int(text.substr(5, 2), month) ||
      !parse_int(text.substr(8, 2), day) || !parse_int(text.substr(11, 2), hour) ||
      !parse_int(text.substr(14, 2), minute) || !parse_int(text.substr(17, 2), second)) {
    throw bad();
  }
  std::string_view rest = text.substr(19);
  std::int64_t micros = 0;
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    int digits = 0;
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
      if (digits < 6) micros = micros * 10 + (rest.front() - '0');
      ++digits;
      rest.remove_prefix(1);
    }
    if (digits == 0) throw bad();
    for (int d = digits; d < 6; ++d) micros *= 10;
  }
  std::int64_t offset_minutes = 0;
  if (!rest.empty()) {
    if (rest.size() != 6 || (rest[0] != '+' && rest[0] != '-') || rest[3] != ':') throw bad();
    int oh = 0, om = 0;
    if (!parse_int(rest.substr(1, 2), oh) || !parse_int(rest.substr(4, 2), om)) throw bad();
    offset_minutes = (rest[0] == '+' ? 1 : -1) * (oh * 60 + om);
  }
  const std::chrono::year_month_day date{std::chrono::year{year},
                                         std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) throw bad();
  const std::int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  const std::int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  return seconds * 1'000'000 + micros;
}

std::vector<ObdFolder> find_obd_folders(const std::string& dir, const std::string& policy,
                                        const std::string& campaign) {
  const fs::path root(dir);
  if (!fs::is_directory(root)) throw ConfigError(dir + ": not a directory");
  if (fs::is_regular_file(root / "item_context.csv")) {
    const fs::path absolute = fs::absolute(root).lexically_normal();
    fs::path self = absolute.filename();
    if (self.empty()) self = absolute.parent_path().filename();  // trailing slash
    const fs::path parent = (absolute.filename().empty() ? absolute.parent_path() : absolute)
                                .parent_path()
                                .filename();
    return {ObdFolder{dir, policy.empty() ? parent.string() : policy,
                      campaign.empty() ? self.string() : campaign}};
  }
  std::vector<ObdFolder> found;
  for (const auto& policy_entry : fs::directory_iterator(root)) {
    if (!policy_entry.is_directory()) continue;
    const std::string policy_name = policy_entry.path().filename().string();
    if (!policy.empty() && policy_name != policy) continue;
    for (const auto& campaign_entry : fs::directory_iterator(policy_entry.path())) {
      const std::string campaign_name = campaign_entry.path().filename().string();
      if (!campaign_entry.is_directory() || (!campaign.empty() && campaign_name != campaign) ||
          !fs::is_regular_file(campaign_entry.path() / "item_context.csv")) {
        continue;
      }
      found.push_back(ObdFolder{campaign_entry.path().string(), policy_name, campaign_name});
    }
  }
  if (found.empty()) {
    throw ConfigError(dir + ": no Open Bandit Dataset folder POLICY/CAMPAIGN with item_context.csv" +
                      (policy.empty() ? std::string() : " for policy '" + policy + "'") +
                      (campaign.empty() ? std::string() : " for campaign '" + campaign + "'"));
  }
  std::sort(found.begin(), found.end(),
            [](const ObdFolder& a, const ObdFolder& b) { return a.path < b.path; });
  return found;
}

ImportedLog read_obd(const ObdFolder& folder) {
  const ItemTable items = read_items((fs::path(folder.path) / "item_context.csv").string());
  CsvFile csv(campaign_file(folder));
  const std::size_t index_column = 0;  // unnamed row index
  const std::size_t timestamp_column = csv.column("timestamp");
  const std::size_t item_column = csv.column("item_id");
  const std::size_t position_column = csv.column("position");
  const std::size_t click_column = csv.column("click");
  const std::size_t propensity_column = csv.column("propensity_score");
  std::size_t user_columns[kUserColumns];
  for (int c = 0; c < kUserColumns; ++c) {
    user_columns[c] = csv.column("user_feature_" + std::to_string(c));
  }

  // First pass: parse every row; user categories are numbered once all are seen.
  struct Row {
    std::string index;
    std::int64_t timestamp_us;
    ActionId action;
    std::uint32_t slot;
    double click;
    double propensity;
    std::string users[kUserColumns];
  };
  std::vector<Row> rows;
  Categories seen[kUserColumns];
  std::vector<std::size_t> bad_propensity_lines;
  std::vector<std::string> fields;
  while (csv.next(fields)) {
    Row row;
    row.index = fields[index_column];
    if (row.index.empty()) throw Error(csv.where() + ": malformed row: empty row index");
    row.timestamp_us = parse_obd_timestamp(fields[timestamp_column], csv.where());
    ItemId item = 0;
    if (!parse_int(fields[item_column], item)) {
      throw Error(csv.where() + ": malformed row: item_id '" + fields[item_column] + "'");
    }
    const auto found = std::lower_bound(items.ids.begin(), items.ids.end(), item);
    if (found == items.ids.end() || *found != item) {
      throw Error(csv.where() + ": item_id " + std::to_string(item) + " is not in item_context.csv");
    }
    row.action = static_cast<ActionId>(found - items.ids.begin());
    std::uint32_t position = 0;
    if (!parse_int(fields[position_column], position) || position < 1) {
      throw Error(csv.where() + ": malformed row: position '" + fields[position_column] +
                  "' (expected 1, 2, ...)");
    }
    row.slot = position - 1;
    row.click = parse_double(fields[click_column], csv.where(), "click");
    const std::string& propensity = fields[propensity_column];
    row.propensity = 0.0;
    if (!propensity.empty()) row.propensity = parse_double(propensity, csv.where(), "propensity_score");
    if (!(row.propensity > 0.0 && row.propensity <= 1.0)) bad_propensity_lines.push_back(csv.line());
    for (int c = 0; c < kUserColumns; ++c) {
      row.users[c] = fields[user_columns[c]];
      seen[c].emplace(row.users[c], 0);
    }
    rows.push_back(std::move(row));
  }
  if (!bad_propensity_lines.empty()) {
    std::string lines;
    for (std::size_t i = 0; i < bad_propensity_lines.size() && i < kRowsNamed; ++i) {
      lines += (i ? ", " : "") + std::to_string(bad_propensity_lines[i]);
    }
    if (bad_propensity_lines.size() > kRowsNamed) {
      lines += " and " + std::to_string(bad_propensity_lines.size() - kRowsNamed) + " more";
    }
    throw Error(csv.path() + ": " + std::to_string(bad_propensity_lines.size()) +
                " rows with a missing, zero or above-1 propensity_score (lines " + lines +
                "); importance weighting needs every logged probability in (0, 1]");
  }
  if (rows.empty()) throw Error(csv.path() + ": no rows");

  int user_dim = 0;
  int offset[kUserColumns];
  for (int c = 0; c < kUserColumns; ++c) {
    number_sorted(seen[c]);
    offset[c] = user_dim;
    user_dim += static_cast<int>(seen[c].size());
  }
  Context base;
  base.actions = items.features;
  base.items = items.ids;
  const std::string prefix = folder.policy + "-" + folder.campaign + "-";
  const std::string policy_name = "obd_" + folder.policy;

  ImportedLog out;
  out.decisions.reserve(rows.size());
  out.rewards.reserve(rows.size());
  for (const Row& row : rows) {
    LoggedDecision& logged = out.decisions.emplace_back();
    logged.context = base;
    logged.context.user = Eigen::VectorXd::Zero(user_dim);
    for (int c = 0; c < kUserColumns; ++c) logged.context.user(offset[c] + seen[c].at(row.users[c])) = 1.0;
    logged.timestamp_us = row.timestamp_us;
    Decision& d = logged.decision;
    d.event_id = prefix + row.index;
    d.action = row.action;
    d.item = items.ids[row.action];
    d.probability = row.propensity;
    d.policy = policy_name;
    d.slot = row.slot;
    out.rewards.push_back(Reward{d.event_id, row.click, row.timestamp_us});
  }
  return out;
}

}  // namespace recloop

// SPDX-License-Identifier: Apache-2.0
#include "evaluation/probability_table.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <ostream>
#include <stdexcept>
#include <system_error>

#include "core/error.h"

namespace recloop {
namespace {

constexpr double kSumTolerance = 1e-6;

std::string describe(const std::string& segment, std::uint32_t slot) {
  return "slot " + std::to_string(slot) + (segment.empty() ? std::string() : " segment '" + segment + "'");
}

std::vector<std::string> split(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::vector<std::string> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    fields.emplace_back(line.substr(start, comma == line.npos ? line.npos : comma - start));
    if (comma == line.npos) return fields;
    start = comma + 1;
  }
}

template <typename T>
bool parse(std::string_view text, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string context_segment(const Context& context) {
  std::string segment;
  for (Eigen::Index i = 0; i < context.user.size(); ++i) {
    if (context.user[i] == 0.0) continue;
    if (!segment.empty()) segment += '.';
    segment += std::to_string(i);
  }
  return segment;
}

ProbabilityTable::ProbabilityTable(std::vector<Row> rows) : rows_(std::move(rows)) {
  if (rows_.empty()) throw std::invalid_argument("a probability table needs at least one row");
  std::sort(rows_.begin(), rows_.end(), [](const Row& a, const Row& b) {
    return std::tie(a.segment, a.slot, a.item) < std::tie(b.segment, b.slot, b.item);
  });
  has_segments_ = !rows_.back().segment.empty();
  if (has_segments_ && rows_.front().segment.empty()) {
    throw std::invalid_argument("probability table mixes rows with and without a segment");
  }
  for (const Row& row : rows_) {
    if (!(row.probability >= 0.0 && row.probability <= 1.0)) {
      throw std::invalid_argument("probability table: item " + std::to_string(row.item) + " at " +
                                  describe(row.segment, row.slot) + ": probability " +
                                  std::to_string(row.probability) + " outside [0, 1]");
    }
    auto& items = lookup_[{row.segment, row.slot}];
    if (!items.emplace(row.item, row.probability).second) {
      throw std::invalid_argument("probability table: item " + std::to_string(row.item) + " at " +
                                  describe(row.segment, row.slot) + " appears twice");
    }
  }
  for (const auto& [key, items] : lookup_) {
    double total = 0.0;
    for (const auto& [item, p] : items) total += p;
    if (!(std::abs(total - 1.0) <= kSumTolerance)) {
      throw std::invalid_argument("probability table: probabilities at " +
                                  describe(key.first, key.second) + " sum to " +
                                  std::to_string(total) + ", not 1");
    }
  }
}

ProbabilityTable ProbabilityTable::load_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot open the probability table");
  std::string line;
  if (!std::getline(in, line)) throw Error(path + ": empty file, expected header item,slot,probability");
  const auto header = split(line);
  int item_col = -1, slot_col = -1, prob_col = -1, segment_col = -1;
  for (std::size_t i = 0; i < header.size(); ++i) {
    const int c = static_cast<int>(i);
    if (header[i] == "item") item_col = c;
    else if (header[i] == "slot") slot_col = c;
    else if (header[i] == "probability") prob_col = c;
    else if (header[i] == "segment") segment_col = c;
    else throw Error(path + ":1: unknown column '" + header[i] + "' (expected item, slot, probability, segment)");
  }
  if (item_col < 0 || slot_col < 0 || prob_col < 0) {
    throw Error(path + ":1: the header needs columns item, slot and probability");
  }
  std::vector<Row> rows;
  std::size_t line_number = 1;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty() || line == "\r") continue;
    const std::string where = path + ":" + std::to_string(line_number);
    const auto fields = split(line);
    if (fields.size() != header.size()) {
      throw Error(where + ": malformed row: " + std::to_string(fields.size()) + " fields, the header has " +
                  std::to_string(header.size()));
    }
    Row row;
    if (!parse(fields[static_cast<std::size_t>(item_col)], row.item) ||
        !parse(fields[static_cast<std::size_t>(slot_col)], row.slot) ||
        !parse(fields[static_cast<std::size_t>(prob_col)], row.probability)) {
      throw Error(where + ": malformed row '" + line + "'");
    }
    if (segment_col >= 0) row.segment = fields[static_cast<std::size_t>(segment_col)];
    rows.push_back(std::move(row));
  }
  try {
    return ProbabilityTable(std::move(rows));
  } catch (const std::invalid_argument& e) {
    throw Error(path + ": " + e.what());
  }
}

void ProbabilityTable::write_csv(std::ostream& out) const {
  out << (has_segments_ ? "segment,item,slot,probability\n" : "item,slot,probability\n");
  char buffer[64];
  for (const Row& row : rows_) {
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), row.probability);
    if (has_segments_) out << row.segment << ',';
    out << row.item << ',' << row.slot << ',' << std::string_view(buffer, static_cast<std::size_t>(end - buffer))
        << '\n';
  }
}

ProbabilityTable ProbabilityTable::from_frequencies(const std::vector<Interaction>& log, bool by_segment) {
  if (log.empty()) throw std::invalid_argument("cannot derive a probability table from an empty log");
  std::map<std::pair<std::string, std::uint32_t>, std::map<ItemId, std::uint64_t>> counts;
  for (const Interaction& i : log) {
    if (i.action >= i.context.items.size()) {
      throw std::invalid_argument("event '" + i.event_id + "': action out of range");
    }
    const std::string segment = by_segment ? context_segment(i.context) : std::string();
    ++counts[{segment, i.slot}][i.context.items[i.action]];
  }
  std::vector<Row> rows;
  for (const auto& [key, items] : counts) {
    std::uint64_t total = 0;
    for (const auto& [item, n] : items) total += n;
    for (const auto& [item, n] : items) {
      rows.push_back(Row{key.first, item, key.second,
                         static_cast<double>(n) / static_cast<double>(total)});
    }
  }
  return ProbabilityTable(std::move(rows));
}

std::vector<double> ProbabilityTable::pmf(const Interaction& logged) const {
  const std::string segment = has_segments_ ? context_segment(logged.context) : std::string();
  const auto found = lookup_.find({segment, logged.slot});
  if (found == lookup_.end()) {
    throw std::invalid_argument("event '" + logged.event_id + "': the probability table has no rows for " +
                                describe(segment, logged.slot));
  }
  const auto& items = found->second;
  std::vector<double> pmf(logged.context.size(), 0.0);
  double covered = 0.0;
  for (std::size_t a = 0; a < pmf.size(); ++a) {
    const auto it = items.find(logged.context.items[a]);
    if (it == items.end()) continue;
    pmf[a] = it->second;
    covered += it->second;
  }
  if (!(covered >= 1.0 - kSumTolerance)) {
    throw std::invalid_argument("event '" + logged.event_id + "': the probability table puts mass " +
                                std::to_string(1.0 - covered) + " at " + describe(segment, logged.slot) +
                                " on items that are not candidates of this context");
  }
  return pmf;
}

}  // namespace recloop

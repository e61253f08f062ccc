// SPDX-License-Identifier: Apache-2.0
#include "logging/csv_file.h"

#include <charconv>
#include <cmath>
#include <system_error>

#include "core/error.h"

namespace recloop {

std::vector<std::string> split_csv_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::vector<std::string> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    fields.emplace_back(line.substr(start, comma == std::string_view::npos ? line.npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return fields;
}

double parse_double(std::string_view text, const std::string& where, std::string_view what) {
  double value = 0.0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    throw Error(where + ": " + std::string(what) + " '" + std::string(text) +
                "' is not a finite number");
  }
  return value;
}

CsvFile::CsvFile(std::string path) : path_(std::move(path)), in_(path_) {
  if (!in_) throw Error(path_ + ": cannot open");
  std::string line;
  if (!std::getline(in_, line)) throw Error(path_ + ": empty file, expected a header line");
  line_ = 1;
  header_ = split_csv_line(line);
}

std::size_t CsvFile::column(std::string_view name) const {
  for (std::size_t i = 0; i < header_.size(); ++i) {
    if (header_[i] == name) return i;
  }
  throw Error(path_ + ": no column '" + std::string(name) + "' in the header");
}

bool CsvFile::next(std::vector<std::string>& fields) {
  std::string line;
  while (std::getline(in_, line)) {
    ++line_;
    if (line.empty() || line == "\r") continue;
    fields = split_csv_line(line);
    if (fields.size() != header_.size()) {
      throw Error(where() + ": malformed row: " + std::to_string(fields.size()) +
                  " fields, the header has " + std::to_string(header_.size()));
    }
    return true;
  }
  return false;
}

std::string CsvFile::where() const { return path_ + ":" + std::to_string(line_); }

}  // namespace recloop

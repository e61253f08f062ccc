// SPDX-License-Identifier: Apache-2.0
// Line-by-line reading of the plain CSV files public datasets ship (no quoted
// fields, no embedded commas), with the file and line number every error
// message needs.
#pragma once

#include <cstddef>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace recloop {

class CsvFile {
 public:
  // Opens `path` and reads its header line. Throws recloop::Error naming the
  // path if it cannot be opened or is empty.
  explicit CsvFile(std::string path);

  // The index of the header column named `name`; throws recloop::Error naming
  // the file and the column when it is missing.
  std::size_t column(std::string_view name) const;
  const std::vector<std::string>& header() const { return header_; }

  // Reads the next non-empty line into `fields` (as many as the header has,
  // else throws naming file and line). False at the end of the file.
  bool next(std::vector<std::string>& fields);

  // "path:line" of the line last read, for error messages.
  std::string where() const;
  std::size_t line() const { return line_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ifstream in_;
  std::vector<std::string> header_;
  std::size_t line_ = 0;
};

// Splits `line` at every comma (a trailing '\r' is dropped).
std::vector<std::string> split_csv_line(std::string_view line);

// Parses the whole of `text` as a finite double; throws recloop::Error with
// `where` and `what` when it is not one.
double parse_double(std::string_view text, const std::string& where, std::string_view what);

}  // namespace recloop

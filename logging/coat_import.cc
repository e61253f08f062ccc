// SPDX-License-Identifier: Apache-2.0
#include "logging/coat_import.h"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <system_error>
#include <vector>

#include "core/error.h"
#include "logging/csv_file.h"

namespace fs = std::filesystem;

namespace recloop {
namespace {

// A whitespace-separated matrix file: one row per non-empty line.
class MatrixFile {
 public:
  explicit MatrixFile(std::string path) : path_(std::move(path)), in_(path_) {
    if (!fs::is_regular_file(path_) || !in_) throw Error(path_ + ": cannot open");
  }

  // The next non-empty line split at blanks; false at the end of the file.
  bool next(std::vector<std::string_view>& fields) {
    while (std::getline(in_, text_)) {
      ++line_;
      fields.clear();
      std::string_view rest = text_;
      while (true) {
        const auto begin = rest.find_first_not_of(" \t\r");
        if (begin == std::string_view::npos) break;
        rest.remove_prefix(begin);
        const auto end = rest.find_first_of(" \t\r");
        fields.push_back(rest.substr(0, end));
        if (end == std::string_view::npos) break;
        rest.remove_prefix(end);
      }
      if (!fields.empty()) return true;
    }
    return false;
  }

  std::string where() const { return path_ + ":" + std::to_string(line_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ifstream in_;
  std::string text_;
  std::size_t line_ = 0;
};

std::string where_item(const MatrixFile& file, std::size_t column) {
  return file.where() + ": item " + std::to_string(column);
}

void check_width(const MatrixFile& file, std::size_t found, std::size_t expected) {
  if (found != expected) {
    throw Error(file.where() + ": malformed row: " + std::to_string(found) + " values, expected " +
                std::to_string(expected));
  }
}

// Ratings 0..5, one vector per user.
std::vector<std::vector<int>> read_ratings(const std::string& path, std::size_t& items) {
  MatrixFile file(path);
  std::vector<std::vector<int>> rows;
  std::vector<std::string_view> fields;
  while (file.next(fields)) {
    if (items == 0) items = fields.size();
    check_width(file, fields.size(), items);
    std::vector<int>& row = rows.emplace_back(items);
    for (std::size_t i = 0; i < items; ++i) {
      const std::string_view text = fields[i];
      int value = -1;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (ec != std::errc() || end != text.data() + text.size() || value < 0 || value > 5) {
        throw Error(where_item(file, i) + ": rating '" + std::string(text) +
                    "' (expected an integer 0..5, 0 = not rated)");
      }
      row[i] = value;
    }
  }
  if (rows.empty()) throw Error(path + ": no rows");
  return rows;
}

std::vector<std::vector<double>> read_propensities(const std::string& path, std::size_t items) {
  MatrixFile file(path);
  std::vector<std::vector<double>> rows;
  std::vector<std::string_view> fields;
  while (file.next(fields)) {
    check_width(file, fields.size(), items);
    std::vector<double>& row = rows.emplace_back(items);
    for (std::size_t i = 0; i < items; ++i) {
      const double p = parse_double(fields[i], where_item(file, i), "propensity");
      if (!(p > 0.0 && p <= 1.0)) {
        throw Error(where_item(file, i) + ": propensity " + std::string(fields[i]) +
                    " (importance weighting needs every propensity in (0, 1])");
      }
      row[i] = p;
    }
  }
  if (rows.empty()) throw Error(path + ": no rows");
  return rows;
}

std::vector<Eigen::VectorXd> read_user_features(const std::string& path) {
  MatrixFile file(path);
  std::vector<Eigen::VectorXd> rows;
  std::vector<std::string_view> fields;
  std::size_t width = 0;
  while (file.next(fields)) {
    if (width == 0) width = fields.size();
    check_width(file, fields.size(), width);
    Eigen::VectorXd& row = rows.emplace_back(static_cast<Eigen::Index>(width));
    for (std::size_t f = 0; f < width; ++f) {
      row(static_cast<Eigen::Index>(f)) =
          parse_double(fields[f], file.where() + ": column " + std::to_string(f), "user feature");
    }
  }
  if (rows.empty()) throw Error(path + ": no rows");
  return rows;
}

void check_users(const std::string& path, std::size_t found, std::size_t expected,
                 const std::string& reference) {
  if (found != expected) {
    throw Error(path + ": " + std::to_string(found) + " users (rows), but " + reference + " has " +
                std::to_string(expected));
  }
}

}  // namespace

CoatLog read_coat(const std::string& dir) {
  const fs::path root(dir);
  if (!fs::is_directory(root)) throw Error(dir + ": not a directory");
  const std::string train_path = (root / "train.ascii").string();
  const std::string test_path = (root / "test.ascii").string();
  const std::string propensity_path = (root / "propensities.ascii").string();
  const std::string user_path = (root / "user_item_features" / "user_features.ascii").string();

  std::size_t items = 0;
  const auto train = read_ratings(train_path, items);
  const auto test = read_ratings(test_path, items);
  const auto propensities = read_propensities(propensity_path, items);
  const auto users = read_user_features(user_path);
  check_users(test_path, test.size(), train.size(), train_path);
  check_users(propensity_path, propensities.size(), train.size(), train_path);
  check_users(user_path, users.size(), train.size(), train_path);

  Context base;
  base.actions = Eigen::MatrixXd::Zero(0, static_cast<Eigen::Index>(items));
  base.items.resize(items);
  for (std::size_t i = 0; i < items; ++i) base.items[i] = i;

  CoatLog out;
  out.users = train.size();
  out.items = items;
  auto add = [&](ImportedLog& log, const std::string& kind, std::size_t user, std::size_t item,
                 double probability, int rating) {
    LoggedDecision& logged = log.decisions.emplace_back();
    logged.context = base;
    logged.context.user = users[user];
    Decision& d = logged.decision;
    d.event_id = "coat-" + kind + "-" + std::to_string(user) + "-" + std::to_string(item);
    d.action = static_cast<ActionId>(item);
    d.item = item;
    d.probability = probability;
    d.policy = kind == "random" ? kCoatRandomPolicy : kCoatSelfSelectedPolicy;
    log.rewards.push_back(Reward{d.event_id, static_cast<double>(rating), 0});
  };
  const double uniform = 1.0 / static_cast<double>(items);
  for (std::size_t u = 0; u < train.size(); ++u) {
    // The user's self-selection pmf over the catalogue (see coat_import.h).
    double row_sum = 0.0;
    for (const double p : propensities[u]) row_sum += p;
    for (std::size_t i = 0; i < items; ++i) {
      if (train[u][i] > 0) {
        add(out.self_selected, "self_selected", u, i, propensities[u][i] / row_sum, train[u][i]);
      }
    }
  }
  for (std::size_t u = 0; u < test.size(); ++u) {
    for (std::size_t i = 0; i < items; ++i) {
      if (test[u][i] > 0) add(out.random, "random", u, i, uniform, test[u][i]);
    }
  }
  return out;
}

}  // namespace recloop

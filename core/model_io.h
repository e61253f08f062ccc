// SPDX-License-Identifier: Apache-2.0
// Binary writing and reading of learning state, for model files and snapshots.
// Little-endian, fixed-width fields; doubles are written bit for bit, so a
// model reloads bit-identical. ModelReader checks every read against the end
// of the buffer and throws recloop::Error (naming what it was reading) on
// truncated or inconsistent input: a model file is untrusted input.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Dense>

namespace recloop {

class ModelWriter {
 public:
  void put_u64(std::uint64_t value);
  void put_i64(std::int64_t value);
  void put_f64(double value);
  void put_bool(bool value) { put_u64(value ? 1 : 0); }
  void put_string(std::string_view text);            // length-prefixed
  void put_doubles(std::span<const double> values);  // length-prefixed
  void put_u64s(std::span<const std::uint64_t> values);
  void put_matrix(const Eigen::MatrixXd& matrix);     // rows, cols, column-major data
  void put_vector(const Eigen::VectorXd& vector);
  const std::string& bytes() const { return bytes_; }
  std::string take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

class ModelReader {
 public:
  // `bytes` must outlive the reader.
  explicit ModelReader(std::string_view bytes) : bytes_(bytes) {}
  std::uint64_t get_u64(std::string_view what);
  std::int64_t get_i64(std::string_view what);
  double get_f64(std::string_view what);
  bool get_bool(std::string_view what);
  std::string get_string(std::string_view what);
  std::vector<double> get_doubles(std::string_view what);
  std::vector<std::uint64_t> get_u64s(std::string_view what);
  Eigen::MatrixXd get_matrix(std::string_view what);
  Eigen::VectorXd get_vector(std::string_view what);
  bool at_end() const { return position_ == bytes_.size(); }
  std::size_t remaining() const { return bytes_.size() - position_; }
  // Throws Error unless every byte was consumed.
  void expect_end(std::string_view what) const;

 private:
  const char* take(std::size_t n, std::string_view what);
  std::string_view bytes_;
  std::size_t position_ = 0;
};

}  // namespace recloop

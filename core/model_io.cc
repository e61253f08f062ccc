// SPDX-License-Identifier: Apache-2.0
#include "core/model_io.h"

#include <cstring>

#include "core/error.h"

namespace recloop {
namespace {
template <typename T>
void append(std::string& out, T value) {
  char raw[sizeof(T)];
  std::memcpy(raw, &value, sizeof(T));
  out.append(raw, sizeof(T));
}
}  // namespace

void ModelWriter::put_u64(std::uint64_t value) { append(bytes_, value); }
void ModelWriter::put_i64(std::int64_t value) { append(bytes_, value); }
void ModelWriter::put_f64(double value) { append(bytes_, value); }

void ModelWriter::put_string(std::string_view text) {
  put_u64(text.size());
  bytes_.append(text);
}

void ModelWriter::put_doubles(std::span<const double> values) {
  put_u64(values.size());
  bytes_.append(reinterpret_cast<const char*>(values.data()), values.size_bytes());
}

void ModelWriter::put_u64s(std::span<const std::uint64_t> values) {
  put_u64(values.size());
  bytes_.append(reinterpret_cast<const char*>(values.data()), values.size_bytes());
}

void ModelWriter::put_matrix(const Eigen::MatrixXd& matrix) {
  put_u64(static_cast<std::uint64_t>(matrix.rows()));
  put_u64(static_cast<std::uint64_t>(matrix.cols()));
  bytes_.append(reinterpret_cast<const char*>(matrix.data()),
                sizeof(double) * static_cast<std::size_t>(matrix.size()));
}

void ModelWriter::put_vector(const Eigen::VectorXd& vector) {
  put_doubles(std::span<const double>(vector.data(), static_cast<std::size_t>(vector.size())));
}

const char* ModelReader::take(std::size_t n, std::string_view what) {
  if (n > bytes_.size() - position_) {
    throw Error("model data truncated while reading " + std::string(what) + " (needs " +
                std::to_string(n) + " bytes at offset " + std::to_string(position_) + ", " +
                std::to_string(bytes_.size() - position_) + " left)");
  }
  const char* at = bytes_.data() + position_;
  position_ += n;
  return at;
}

std::uint64_t ModelReader::get_u64(std::string_view what) {
  std::uint64_t value;
  std::memcpy(&value, take(sizeof(value), what), sizeof(value));
  return value;
}

std::int64_t ModelReader::get_i64(std::string_view what) {
  std::int64_t value;
  std::memcpy(&value, take(sizeof(value), what), sizeof(value));
  return value;
}

double ModelReader::get_f64(std::string_view what) {
  double value;
  std::memcpy(&value, take(sizeof(value), what), sizeof(value));
  return value;
}

bool ModelReader::get_bool(std::string_view what) {
  const auto value = get_u64(what);
  if (value > 1) throw Error("model data: " + std::string(what) + " is not a boolean");
  return value == 1;
}

std::string ModelReader::get_string(std::string_view what) {
  const auto size = get_u64(what);
  if (size > remaining()) throw Error("model data truncated while reading " + std::string(what));
  return std::string(take(size, what), size);
}

std::vector<double> ModelReader::get_doubles(std::string_view what) {
  const auto size = get_u64(what);
  if (size > remaining() / sizeof(double)) throw Error("model data truncated while reading " + std::string(what));
  std::vector<double> values(size);
  if (size) std::memcpy(values.data(), take(size * sizeof(double), what), size * sizeof(double));
  return values;
}

std::vector<std::uint64_t> ModelReader::get_u64s(std::string_view what) {
  const auto size = get_u64(what);
  if (size > remaining() / sizeof(std::uint64_t)) throw Error("model data truncated while reading " + std::string(what));
  std::vector<std::uint64_t> values(size);
  if (size) std::memcpy(values.data(), take(size * sizeof(std::uint64_t), what), size * sizeof(std::uint64_t));
  return values;
}

Eigen::MatrixXd ModelReader::get_matrix(std::string_view what) {
  const auto rows = get_u64(what);
  const auto cols = get_u64(what);
  if (rows > (1u << 24) || cols > (1u << 24) || (rows * cols) > remaining() / sizeof(double)) {
    throw Error("model data truncated or corrupt while reading " + std::string(what));
  }
  Eigen::MatrixXd matrix(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  const auto n = static_cast<std::size_t>(rows * cols);
  if (n) std::memcpy(matrix.data(), take(n * sizeof(double), what), n * sizeof(double));
  return matrix;
}

Eigen::VectorXd ModelReader::get_vector(std::string_view what) {
  const auto values = get_doubles(what);
  return Eigen::Map<const Eigen::VectorXd>(values.data(), static_cast<Eigen::Index>(values.size()));
}

void ModelReader::expect_end(std::string_view what) const {
  if (!at_end()) {
    throw Error("model data: " + std::to_string(remaining()) + " unexpected bytes after " +
                std::string(what));
  }
}

}  // namespace recloop

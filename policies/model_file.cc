// SPDX-License-Identifier: Apache-2.0
#include "policies/model_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

#include "core/error.h"
#include "core/model_io.h"
#include "core/rng.h"
#include "policies/registry.h"

namespace recloop {
namespace {

// Bytes before the name: magic, version, name length.
constexpr std::size_t kHeaderSize = 24;
// Everything but the name and the payload: header, payload length, checksum.
constexpr std::size_t kFixedSize = kHeaderSize + 8 + 8;

std::uint64_t read_u64(std::string_view bytes, std::size_t offset) {
  std::uint64_t value;
  std::memcpy(&value, bytes.data() + offset, sizeof(value));
  return value;
}

std::string hex(std::uint64_t value) {
  char buffer[24];
  std::snprintf(buffer, sizeof(buffer), "0x%016llx", static_cast<unsigned long long>(value));
  return buffer;
}

std::string system_message() { return std::strerror(errno); }

void write_all(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      throw Error(path + ": cannot write model file: " + system_message());
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
}

}  // namespace

std::string serialize_policy(const Policy& policy) {
  ModelWriter payload;
  policy.save(payload);
  ModelWriter body;
  body.put_u64(kModelFormatVersion);
  body.put_string(saved_name(policy));
  body.put_string(payload.bytes());
  std::string bytes(kModelMagic);
  bytes += body.bytes();
  ModelWriter checksum;
  checksum.put_u64(fnv1a64(bytes));
  bytes += checksum.bytes();
  return bytes;
}

std::unique_ptr<Policy> deserialize_policy(std::string_view bytes, const std::string& what) {
  const auto refuse = [&](const std::string& problem) { return Error(what + ": " + problem); };
  const std::size_t size = bytes.size();
  // A prefix of the magic is a truncated file, anything else is not a model file.
  if (bytes.substr(0, kModelMagic.size()) != kModelMagic.substr(0, size)) {
    throw refuse("not a recloop model file (it does not start with \"RECLOOPM\")");
  }
  if (size < kHeaderSize) {
    throw refuse("model file truncated (" + std::to_string(size) + " bytes; its header alone is " +
                 std::to_string(kHeaderSize) + ")");
  }
  const std::uint64_t version = read_u64(bytes, 8);
  if (version > kModelFormatVersion) {
    throw refuse("model file has format version " + std::to_string(version) +
                 ", newer than this build reads (up to " + std::to_string(kModelFormatVersion) +
                 "); use a newer recloop");
  }
  if (version == 0) throw refuse("model file has format version 0, which does not exist (corrupted)");

  // Sizes as the header declares them; compared without overflow.
  const std::uint64_t name_size = read_u64(bytes, 16);
  std::uint64_t payload_size = 0;
  const bool name_fits = name_size <= size - kHeaderSize && size - kHeaderSize - name_size >= 8;
  if (name_fits) payload_size = read_u64(bytes, kHeaderSize + name_size);
  const bool sizes_fit = name_fits && payload_size <= size - kHeaderSize - name_size - 8 &&
                         size - kHeaderSize - name_size - 8 - payload_size >= 8;
  if (!sizes_fit) {
    throw refuse("model file truncated or corrupted: its header declares more than the " +
                 std::to_string(size) + " bytes it has");
  }
  const std::size_t body_size = kHeaderSize + name_size + 8 + payload_size;
  const std::uint64_t stored = read_u64(bytes, body_size);
  const std::uint64_t computed = fnv1a64(bytes.substr(0, body_size));
  if (stored != computed) {
    throw refuse("model file corrupted (checksum mismatch: stored " + hex(stored) + ", computed " +
                 hex(computed) + ")");
  }
  if (body_size + 8 != size) {
    throw refuse("model file corrupted (" + std::to_string(size - body_size - 8) +
                 " unexpected bytes after the checksum)");
  }

  const std::string name(bytes.substr(kHeaderSize, name_size));
  ModelReader in(bytes.substr(kHeaderSize + name_size + 8, payload_size));
  std::unique_ptr<Policy> policy;
  try {
    policy = load_policy(name, in);
    in.expect_end(name + " state");
  } catch (const std::exception& e) {
    // The checksum matched, so the bytes are as written: the writer and this
    // reader disagree about the policy's state.
    throw refuse("model file does not load (" + std::string(e.what()) + ")");
  }
  return policy;
}

void save_model(const Policy& policy, const std::string& path) {
  const std::string bytes = serialize_policy(policy);
  const std::string temporary = path + ".tmp-" + std::to_string(::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(path + ": cannot create model file: " + system_message());
  try {
    write_all(fd, bytes, path);
    // Durable before it becomes visible: rename() publishes it atomically,
    // and fsync() first makes sure the name never points at unwritten data.
    if (::fsync(fd) != 0) throw Error(path + ": cannot flush model file: " + system_message());
  } catch (...) {
    ::close(fd);
    std::remove(temporary.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    std::remove(temporary.c_str());
    throw Error(path + ": cannot write model file: " + system_message());
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string message = system_message();
    std::remove(temporary.c_str());
    throw Error(path + ": cannot replace model file: " + message);
  }
  // Make the rename itself durable; a failure here leaves a complete file
  // that a crash might roll back to the old one, so it is not an error.
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const int dir = ::open(parent.empty() ? "." : parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

std::unique_ptr<Policy> load_model(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(path + ": cannot open model file: " + system_message());
  std::ostringstream bytes;
  bytes << file.rdbuf();
  if (file.bad()) throw Error(path + ": cannot read model file: " + system_message());
  return deserialize_policy(bytes.str(), path);
}

}  // namespace recloop

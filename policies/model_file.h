// SPDX-License-Identifier: Apache-2.0
// Model files: a policy's full learning state on disk, versioned and
// checksummed, so that a restarted process decides and learns bit-identically
// to one that never stopped.
//
// Layout, format version 1 (integers little-endian u64, as core/model_io.h):
//   offset      bytes  field
//   0           8      magic "RECLOOPM"
//   8           8      format version (kModelFormatVersion)
//   16          8      n, length of the policy name
//   24          n      policy name: saved_name() of the policy, what load_policy()
//                      dispatches on (a registry name, or "probability_floor")
//   24+n        8      m, length of the payload
//   32+n        m      payload: what the policy's save() wrote (its config, then
//                      its learning state)
//   32+n+m      8      FNV-1a-64 (core/rng.h) of bytes [0, 32+n+m)
// A reader refuses, with one line naming the file and the problem: a file that
// does not start with the magic, a format version newer than it reads, a file
// shorter or longer than its header declares (truncated), a checksum mismatch
// (corrupted), and a payload that the policy's load() rejects or does not
// consume exactly. A newer format version is refused before anything else is
// read, so a later format may move every field after the version.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "policies/policy.h"

namespace recloop {

inline constexpr std::string_view kModelMagic = "RECLOOPM";
inline constexpr std::uint64_t kModelFormatVersion = 1;

// The model file's bytes for `policy`. Throws std::logic_error if the policy
// cannot be saved (Policy::save's default).
std::string serialize_policy(const Policy& policy);

// Rebuilds the policy from serialize_policy()'s bytes. `what` names the source
// (a path) in error messages. Throws recloop::Error as described above.
std::unique_ptr<Policy> deserialize_policy(std::string_view bytes, const std::string& what);

// Writes serialize_policy(policy) to `path` atomically: to a temporary file in
// the same directory, flushed to disk (fsync), then renamed over `path`, so a
// reader sees the old file or the new one, never part of one. Throws
// recloop::Error naming the path and the system's message on I/O failure.
void save_model(const Policy& policy, const std::string& path);

// Reads and rebuilds the policy saved at `path`. Throws recloop::Error naming
// the path when it cannot be read or is refused.
std::unique_ptr<Policy> load_model(const std::string& path);

}  // namespace recloop

// SPDX-License-Identifier: Apache-2.0
// Exceptions thrown at the edges (files, sockets, configuration). Inside hot
// loops the code uses plain values and asserts instead; see check.h.
#pragma once

#include <stdexcept>
#include <string>

namespace recloop {

// I/O or environment failure, with context (path, endpoint, library message).
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad user input: a scenario file, a --set value or a command-line option.
// The message names the file, section, key, value and the allowed range.
// The CLI exits with status 2 for these, 1 for any other Error.
class ConfigError : public Error {
 public:
  using Error::Error;
};

}  // namespace recloop

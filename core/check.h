// SPDX-License-Identifier: Apache-2.0
// RECLOOP_CHECK guards our own contracts at module boundaries (a pmf that does
// not sum to one, a probability <= 0). A failure is a bug in recloop, not bad
// input: it throws std::logic_error naming the file and line. Hot loops use assert.
#pragma once

#include <stdexcept>
#include <string>

#define RECLOOP_CHECK(condition, message)                                                  \
  do {                                                                                     \
    if (!(condition)) {                                                                    \
      throw std::logic_error(std::string(__FILE__) + ":" + std::to_string(__LINE__) +      \
                             ": check failed: " #condition ": " + std::string(message));   \
    }                                                                                      \
  } while (false)

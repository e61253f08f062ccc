// SPDX-License-Identifier: Apache-2.0
// SIGINT/SIGTERM handling for the long-running verbs (collect, serve, learn):
// the handler only sets a flag, which the verb's loops poll.
#pragma once

#include <atomic>

namespace recloop {

// Set to true by SIGINT or SIGTERM once install_stop_handlers() has run; the
// verbs may also set it themselves to stop their own loops. A signal handler
// can reach nothing but namespace-scope state, so this one flag lives here.
// Lock-free, so setting it is async-signal-safe.
extern std::atomic<bool> stop_requested;

// Installs the handler for SIGINT and SIGTERM without SA_RESTART, so a poll
// blocked in a system call returns EINTR and its loop sees the flag at once.
void install_stop_handlers();

}  // namespace recloop

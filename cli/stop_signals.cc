// SPDX-License-Identifier: Apache-2.0
#include "cli/stop_signals.h"

#include <csignal>

namespace recloop {

std::atomic<bool> stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the stop flag is set from a signal handler");

namespace {

extern "C" void request_stop(int) { stop_requested.store(true); }

}  // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: a blocked poll returns EINTR and sees the flag at once
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

}  // namespace recloop

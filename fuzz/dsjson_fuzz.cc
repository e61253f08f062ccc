// SPDX-License-Identifier: Apache-2.0
// Fuzzes the DSJSON reader of logging/dsjson.h: the input is a DSJSON file
// (each line goes through the per-line parser, then the file-level checks).
// Documented failure: recloop::Error. Any other exception, crash or sanitizer
// report is a finding. An accepted file must give decisions that satisfy the
// probability contract and whose exported lines import again.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "core/error.h"
#include "logging/dsjson.h"

namespace {

void fail(const char* what) {
  std::fprintf(stderr, "dsjson contract violated: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace recloop;
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)parse_dsjson_timestamp(text);

  std::istringstream in(text);
  DsjsonLog log;
  try {
    log = read_dsjson(in, "fuzz.dsjson");
  } catch (const Error&) {
    return 0;  // rejected with a message: expected for bad input
  }
  std::string exported;
  for (const DsjsonEvent& event : log.events) {
    const Decision& d = event.logged.decision;
    const Context& c = event.logged.context;
    if (d.action >= c.size() || d.item != c.items[d.action]) fail("action or item outside the candidates");
    if (!(d.probability > 0.0 && d.probability <= 1.0)) fail("probability outside (0, 1]");
    if (d.pmf.size() != c.size()) fail("pmf length differs from candidates");
    if (static_cast<std::size_t>(c.user.size()) != log.user_features.size() ||
        static_cast<std::size_t>(c.actions.rows()) != log.action_features.size()) {
      fail("feature dimensions differ from the named columns");
    }
    if (event.reward && !std::isfinite(*event.reward)) fail("reward not finite");
    exported += to_dsjson_line(event);
    exported += '\n';
  }
  std::istringstream again(exported);
  try {
    const DsjsonLog round = read_dsjson(again, "fuzz-export.dsjson");
    if (round.events.size() != log.events.size()) fail("export does not import to the same number of events");
  } catch (const Error& e) {
    std::fprintf(stderr, "export of an accepted file is rejected: %s\n", e.what());
    std::abort();
  }
  return 0;
}

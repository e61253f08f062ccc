// SPDX-License-Identifier: Apache-2.0
// The selection-bias report (evaluation/bias_report.h) as one self-contained
// HTML page: tables plus inline SVG charts (value estimates against the
// reference, reward by slot, the Lorenz curve of exposure, the histogram of
// logged probabilities, reward distributions naive / weighted / reference).
// No scripts, fonts, style sheets or images are loaded from anywhere: the page
// names no URL at all, so it opens offline and in a sandbox. All text that
// comes from the log (policy names, the log's path) is escaped.
#pragma once

#include <string>
#include <string_view>

#include "evaluation/bias_report.h"

namespace recloop {

// `text` with &, <, >, " and ' replaced by character references: safe in
// element content and in quoted attribute values.
std::string escape_html(std::string_view text);

// The whole page. `source` names the log in the title and the header.
std::string render_bias_html(const BiasReport& report, const std::string& source);

}  // namespace recloop

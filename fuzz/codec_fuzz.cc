// SPDX-License-Identifier: Apache-2.0
// Fuzzes the decoders of core/codec.h (context, doubles, both forms). They
// document no exceptions: malformed bytes give std::nullopt / false, so any
// throw, crash or sanitizer report is a finding. The reusing forms must agree
// with the allocating ones, and a decoded context must re-encode to the input.
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "core/codec.h"

namespace {

void fail(const char* what) {
  std::fprintf(stderr, "codec contract violated: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace recloop;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  const auto context = decode_context(bytes);
  Context reused;
  reused.user = Eigen::VectorXd::Ones(3);  // stale storage the decoder must overwrite
  reused.items = {7, 8};
  const bool reused_ok = decode_context_into(bytes, reused);
  if (context.has_value() != reused_ok) fail("decode_context and decode_context_into disagree");
  if (context) {
    if (context->actions.cols() != static_cast<Eigen::Index>(context->size())) {
      fail("context has a different number of columns and items");
    }
    if (!context->user.allFinite() || !context->actions.allFinite()) fail("non-finite feature accepted");
    if (encode_context(*context) != bytes) fail("a decoded context does not re-encode to its bytes");
    if (encode_context(reused) != bytes) fail("decode_context_into does not match its bytes");
  }

  const auto doubles = decode_doubles(bytes);
  std::vector<double> reused_doubles(5, 1.0);
  const bool doubles_ok = decode_doubles_into(bytes, reused_doubles);
  if (doubles.has_value() != doubles_ok) fail("decode_doubles and decode_doubles_into disagree");
  if (doubles && encode_doubles(*doubles) != bytes) fail("decoded doubles do not re-encode to their bytes");
  return 0;
}

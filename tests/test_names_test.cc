// SPDX-License-Identifier: Apache-2.0
// CTest learns the test cases from `recloop_tests --list-test-names-only`
// (catch_discover_tests) and passes the names through CMake lists, where an
// unbalanced '[' or ']' swallows every later name: CI would then silently
// run only the tests listed before it. This keeps every name discoverable.
#include <catch2/catch.hpp>

#include <string>

TEST_CASE("every test case name balances its brackets so CTest discovers all of them") {
  for (const Catch::TestCase& test : Catch::getRegistryHub().getTestCaseRegistry().getAllTests()) {
    const std::string& name = test.getTestCaseInfo().name;
    int depth = 0;
    bool balanced = true;
    for (char c : name) {
      if (c == '[') ++depth;
      if (c == ']' && --depth < 0) balanced = false;
    }
    INFO(name);
    CHECK((balanced && depth == 0));
  }
}

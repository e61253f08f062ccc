set(policies_tests)

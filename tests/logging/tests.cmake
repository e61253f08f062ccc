set(logging_tests)

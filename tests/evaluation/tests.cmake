set(evaluation_tests)

set(simulator_tests)

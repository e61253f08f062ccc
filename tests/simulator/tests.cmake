set(simulator_tests
  simulator/linear_click_world_test.cc
)

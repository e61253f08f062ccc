set(simulator_tests
  simulator/batch_run_test.cc
  simulator/choice_model_test.cc
  simulator/linear_click_world_test.cc
  simulator/population_world_test.cc
  simulator/session_logging_test.cc
  simulator/session_value_test.cc
  simulator/session_world_test.cc
)
if("policies" IN_LIST RECLOOP_TEST_FOLDERS)
  # The biased logging policies (policies/) against the population world.
  list(APPEND simulator_tests simulator/logging_policies_test.cc)
  list(APPEND simulator_tests simulator/calibration_test.cc)
endif()

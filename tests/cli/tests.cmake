set(cli_tests
  cli/scenario_config_test.cc
  cli/simulate_command_test.cc
  cli/evaluate_command_test.cc
  cli/json_writer_test.cc
  cli/offline_evaluation_test.cc
)

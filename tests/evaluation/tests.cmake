set(evaluation_tests
  evaluation/bias_report_test.cc
  evaluation/bootstrap_test.cc
  evaluation/click_world.cc
  evaluation/columnar_dr_test.cc
  evaluation/diagnostics_test.cc
  evaluation/direct_method_test.cc
  evaluation/doubly_robust_test.cc
  evaluation/estimator_contract_test.cc
  evaluation/exact_sum_test.cc
  evaluation/fitted_q_test.cc
  evaluation/ips_test.cc
  evaluation/naive_test.cc
  evaluation/off_policy_statistical_test.cc
  evaluation/probability_table_test.cc
  evaluation/ope_statistical_test.cc
  evaluation/registry_test.cc
  evaluation/reward_models_test.cc
  evaluation/ridge_reward_model_test.cc
  evaluation/sequential_test.cc
  evaluation/single_slot_estimators_test.cc
  evaluation/slate_ips_test.cc
  evaluation/slate_registry_test.cc
  evaluation/snips_test.cc
  evaluation/statistics_test.cc
  evaluation/true_value_test.cc
)
# Tests on the linear click world with real policies also need those folders.
if("policies" IN_LIST RECLOOP_TEST_FOLDERS AND "simulator" IN_LIST RECLOOP_TEST_FOLDERS)
  list(APPEND evaluation_tests
    evaluation/biased_click_log_test.cc
    evaluation/click_world_logs.cc
    evaluation/coverage_sweep_test.cc
  )
endif()

set(feedback_tests
  feedback/collector_process_test.cc
  feedback/collector_test.cc
  feedback/wire_test.cc
)

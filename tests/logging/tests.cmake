set(logging_tests
  logging/event_log_test.cc
)

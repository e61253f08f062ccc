set(logging_tests
  logging/event_log_test.cc
  logging/obd_import_test.cc
)

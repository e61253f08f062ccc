set(logging_tests
  logging/coat_import_test.cc
  logging/event_log_test.cc
  logging/event_log_join_test.cc
  logging/obd_import_test.cc
  logging/slate_log_test.cc
  logging/dsjson_test.cc
)

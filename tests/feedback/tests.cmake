set(feedback_tests
  feedback/closed_loop_test.cc
  feedback/collector_process_test.cc
  feedback/collector_test.cc
  feedback/decision_server_test.cc
  feedback/model_stream_test.cc
  feedback/wire_test.cc
)

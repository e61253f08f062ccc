set(feedback_tests)

set(core_tests
  core/config_test.cc
  core/codec_test.cc
  core/sampling_test.cc
  core/state_action_features_test.cc
)

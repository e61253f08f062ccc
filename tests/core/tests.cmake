set(core_tests
  core/config_test.cc
  core/codec_test.cc
  core/sampling_test.cc
)

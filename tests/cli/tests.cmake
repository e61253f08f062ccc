set(cli_tests)

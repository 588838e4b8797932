# Self-tests of must_die: nginx -t and a real start must both fail, with the declared message.

=== must_die on a configuration that works fails
--- yaml
baseDeployment: {version: v1}
--- config
location / { frontend_gray gray.yaml; }
--- must_die
--- error_log
anything
--- selftest_fails_with
nginx -t passed, expected failure

=== must_die checks the real start too: a message only nginx -t prints is not enough
--- yaml
baseDeployment: [broken
--- config
location / { frontend_gray gray.yaml; }
--- must_die
--- error_log
configuration file .* test failed
--- selftest_fails_with
the output of a real start lacks /configuration file .\* test failed/

=== PASS: a broken file stops nginx -t and a real start alike
--- yaml
baseDeployment: [broken
--- config
location / { frontend_gray gray.yaml; }
--- must_die
--- error_log
\[emerg\] .*"frontend_gray" file "[^"]*gray.yaml": line \d+, column \d+

"""The Windows-likeness tier: smoke tests that only make sense in the environment
tests.functional.test_windows_tier gives them (no system time zone database, a cp1252 console,
Europe/Berlin as display and data time zone). Their module names do not start with ``test`` so
that plain discovery leaves them to that tier."""

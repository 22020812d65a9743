"""Reports: the certification report (JSON), more to come with the suites."""

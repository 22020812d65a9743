"""The certification suites (a package, so that an installed rig runs them with
``pytest --pyargs onshi_rig_data.suites``)."""

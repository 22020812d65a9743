"""The rig's data, as the wheel ships it: ``vendor_profiles/``, ``fixtures/`` (benches, the
twins' behaviour, reference screens, cards) and ``suites/`` (``pytest --pyargs
onshi_rig_data.suites --bench FILE``).

In a checkout this folder holds only this file: the data stays at the top level and
pyproject.toml maps it in here when the wheel is built. Find a file with
``harness.paths.project_file``, which serves both layouts.
"""

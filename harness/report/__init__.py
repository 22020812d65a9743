"""Reports: the certification (JSON, HTML, JUnit, the devices found), the requirement
catalogue (docs/requirements.md) and the notices they cite."""

"""Load the rig's plugin for this checkout (unless the installed package already has)."""

from importlib.metadata import entry_points

_installed = any(ep.name == "onshi_rig" for ep in entry_points(group="pytest11"))
pytest_plugins = [] if _installed else ["harness.pytest_plugin"]

"""A plugin whose import fails: the plugin manager must report it and carry on."""
raise ImportError("mubench_broken needs a library that is not installed (deliberate, for tests)")

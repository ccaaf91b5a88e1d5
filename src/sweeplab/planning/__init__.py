"""What to run: the sweep spec (YAML, flags, Python), its values, dot paths into the base config,
resolution against that config, and the lazy plan of trials. Nothing here runs a trial or writes."""

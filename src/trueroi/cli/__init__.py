"""The command-line face of trueroi (``trueroi ...``)."""

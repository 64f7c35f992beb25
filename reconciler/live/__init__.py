"""Live state: what Codat holds now, read in as few page calls as possible."""

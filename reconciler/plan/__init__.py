"""Plans: the pure diff of desired against live, and the files that save them."""

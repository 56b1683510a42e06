"""Thin adapters to the host: the one Docker helper, the one git helper, and who owns what we start."""

"""Recipes: one file per command, each reading top to bottom and calling components."""

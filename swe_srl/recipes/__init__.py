"""Recipes: one file per command, each reading top to bottom; they call components and never each other."""

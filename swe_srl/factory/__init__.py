"""The task factory: SWE-smith-style bug synthesis over real PyPI packages, validated by their own tests."""

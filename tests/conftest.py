"""Test-suite settings shared by every test module."""

import os

from hypothesis import HealthCheck, settings

# CI runs on 2 noisy cores: no per-example deadline, so a slow machine never flakes a property.
settings.register_profile(
    "ci", deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile("dev", deadline=None, max_examples=50)
settings.register_profile("thorough", deadline=None, max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

"""The intake tests' form factory, for tests that submit forms."""

from leadcycle.intake.tests.conftest import make_form

__all__ = ["make_form"]

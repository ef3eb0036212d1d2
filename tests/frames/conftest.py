"""Fixtures for the tests of the public operations: the sample corpus and a fresh emulator,
shared with tests/jobs (defined once, in tests/jobs/conftest.py)."""

from tests.jobs.conftest import corpus, corpus_url, emulator, truth

__all__ = ["corpus", "corpus_url", "emulator", "truth"]

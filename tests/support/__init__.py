"""Helpers shared by the test suite: real database servers, a running gateway, raw protocol I/O."""

"""Helpers the tests share that are no part of the course's packages."""

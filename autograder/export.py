"""Old address of :mod:`autograder.pipeline.export`, kept for one release (removed in
1.1): an instructor's own ``nbgrader_config.py`` may name classes here, e.g.
``autograder.export.StatusCsvExport``; name them at the new address instead."""

# Re-export shim left by the package move (issue 23); removed after one release.
from autograder.pipeline.export import *  # noqa: F403

"""The nbgrader pipeline, in the order nbgrader runs it on one notebook.

- :mod:`.nbgrader_config`: the course's nbgrader configuration (loaded by the course root's
  ``nbgrader_config.py``): which plug-ins run, in which order.
- :mod:`.preprocessors`: the plug-ins, in that order (read, rebuild, execute in the sandbox,
  verify, save the status); the module docstring lists the per-notebook steps.
- :mod:`.reference`: the reference runs the verdicts compare a student's outputs with.
- :mod:`.status`: the per-cell status table beside nbgrader's gradebook.
- :mod:`.deadlines`: the course's ``deadlines.toml``, nbgrader's late-penalty plug-in and the
  feedback's deadline note.
- :mod:`.export`: the grades CSV (nbgrader export plug-in) with each score's status.

Imports :mod:`autograder.sandbox`; nothing here imports the class-level packages
(:mod:`autograder.lms`, :mod:`autograder.grade`, :mod:`autograder.authoring`).
"""

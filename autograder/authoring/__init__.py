"""The instructor's tools for writing and shipping the course.

- :mod:`.notebooks`: write (from a jupytext script) and tidy the instructor notebooks.
- :mod:`.mistakes`: ``./course check``: the reference, the release and every known mistake.
- :mod:`.examples`: the example class the main job grades.
- :mod:`.main_job`: the main job (``./course``): release, execute, grade the example class.
- :mod:`.colab`: the Colab setup block of every lesson.
- :mod:`.bundle`: ``./course bundle``, the student bundle.

Releasing (``./course release``) is :func:`autograder.release_lessons`. The top of the house:
imports :mod:`autograder.grade` and :mod:`autograder.pipeline`; nothing imports it but
:mod:`autograder.cli`.
"""

"""The course's content: the lessons, their checks and known mistakes, the bundle."""

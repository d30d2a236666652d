"""One notebook through nbgrader and the sandbox: reading, judging, concealing, feedback."""

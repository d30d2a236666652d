# nbgrader reads this file from the directory it runs in (the repo root); the course's settings
# live in autograder/pipeline/nbgrader_config.py.
c = get_config()  # noqa: F821
load_subconfig("autograder/pipeline/nbgrader_config.py")  # noqa: F821

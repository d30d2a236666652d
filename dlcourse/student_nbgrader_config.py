# nbgrader settings for students (shipped with the student notebooks; `./course lab` uses it too).
#
# The Validate button is answered by `dlcourse.validate_button` (the grader's own judgement,
# with the grader's time limits), not by nbgrader's validator, so nothing here configures it.
# Nothing here refers to the instructor's `autograder` package, so it works where students have
# only notebooks/, data/ and dlcourse/.
import zmq

c = get_config()  # noqa: F821

c.CourseDirectory.course_id = "dl-basics"

# Kernels started over TCP (nbconvert, nbgrader's own commands) talk CurveZMQ-encrypted where
# pyzmq supports it; ipykernel otherwise warns "Kernel is running over TCP without encryption".
if zmq.has("curve"):
    c.KernelManager.transport_encryption = "auto"

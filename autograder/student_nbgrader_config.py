# nbgrader settings for students (shipped with the student notebooks; `./course lab` uses it too).
#
# Only what the Validate button needs: it re-runs the whole notebook in a fresh kernel and reports
# every check (test) cell that fails. Nothing here refers to the instructor's `autograder`
# package, so it works where students have only notebooks/, data/ and dlcourse/.
import zmq

c = get_config()  # noqa: F821

c.CourseDirectory.course_id = "dl-basics"
# A training cell may take a while on a slow laptop; a cell that runs longer than this is
# reported as failed instead of leaving Validate spinning forever.
c.Execute.timeout = 300
c.Execute.interrupt_on_timeout = True
# Report the check cells that fail (not every cell with an error): the message students need is
# the check's own Korean explanation.
c.Validator.validate_all = False

# Kernels started over TCP (Validate, nbconvert) talk to nbgrader CurveZMQ-encrypted where pyzmq
# supports it; ipykernel otherwise warns "Kernel is running over TCP without encryption".
if zmq.has("curve"):
    c.KernelManager.transport_encryption = "auto"

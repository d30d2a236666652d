"""nbgrader settings for the course (loaded by the repo root's nbgrader_config.py).

Plain nbgrader commands run from the repo root use all of this, so `nbgrader autograde 01_neuron`
grades with the same integrity rules as `./course grade`.
"""

import os

from traitlets.config import Config

from autograder import KERNEL_CONFIG
from dlcourse.submission import (  # Validate uses the same limits and stub
    CELL_TIMEOUT,
    NOTEBOOK_TIMEOUT,
    TEXT_STUB,
)

c = get_config()  # noqa: F821

c.CourseDirectory.course_id = "dl-basics"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "*_files"]
# SQLite by default, waiting (instead of failing with "database is locked") while another
# grading worker writes; NBGRADER_DB_URL switches to PostgreSQL (see README).
c.CourseDirectory.db_url = os.environ.get(
    "NBGRADER_DB_URL", "sqlite:///" + os.path.abspath("gradebook.db") + "?timeout=300"
)

c.ClearSolutions.code_stub = {
    "python": (
        "# 여기에 코드를 작성하세요 (YOUR CODE HERE)\n"
        'raise NotImplementedError("아직 구현하지 않았습니다 (not implemented yet)")'
    )
}
c.ClearSolutions.text_stub = TEXT_STUB

# Students' notebooks are untrusted: rebuild each one from the source notebook keeping only the
# answer cells, run it in a sandbox, and decide every test cell in this process.
c.Autograde.exporter_class = "autograder.pipeline.preprocessors.SubmissionReader"
c.Autograde.sanitize_preprocessors = [
    "autograder.pipeline.preprocessors.RebuildFromSource",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.Autograde.autograde_preprocessors = [
    "autograder.pipeline.preprocessors.SandboxedExecute",
    "autograder.pipeline.preprocessors.VerifyChecks",
    "autograder.pipeline.sanitize.SanitizeOutputs",  # no active content reaches the pages (issue 30)
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
    "autograder.pipeline.preprocessors.SaveStatus",
]
# nbgrader collect records each submission's time as the exchange's inbound time, never the
# student's timestamp.txt (autograder/grade/exchange.py, autograder/pipeline/received.py).
c.ExchangeFactory.collect = "autograder.grade.exchange.CourseCollect"
# Late penalties: the policy of the course's deadlines.toml (autograder/pipeline/deadlines.py).
c.AssignLatePenalties.plugin_class = "autograder.pipeline.deadlines.LatePolicy"
# ClearMetadataPreprocessor must keep nbgrader's cell metadata and our grading status.
c.ClearMetadataPreprocessor.preserve_cell_metadata_mask = ["nbgrader", "dlcourse"]
c.ClearMetadataPreprocessor.preserve_nb_metadata_mask = [
    "kernelspec", "language_info", "dlcourse"
]

# The per-cell limit is Execute.timeout (nbgrader's key; ExecutePreprocessor.timeout is ignored).
c.Execute.timeout = CELL_TIMEOUT
# A whole notebook never runs longer than this, however many cells time out.
c.SandboxedExecute.notebook_timeout = NOTEBOOK_TIMEOUT

# Feedback shows the visible tests and the grader's verdict, never hidden tests.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "autograder.pipeline.deadlines.DeadlineNote",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
# The feedback page carries a content security policy (no script but MathJax; autograder.pipeline.feedback).
c.GenerateFeedback.exporter_class = "autograder.pipeline.feedback.FeedbackExporter"

c.ExportApp.plugin_class = "autograder.pipeline.export.StatusCsvExport"

# Kernels started over TCP (Validate, nbconvert) talk to nbgrader CurveZMQ-encrypted, as every
# trusted kernel of the course does; sandboxed grading kernels use private ipc sockets.
c.merge(Config(KERNEL_CONFIG))

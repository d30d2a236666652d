"""A whole class: ./course grade, LMS formats, times, the exchange, workers, formgrader."""

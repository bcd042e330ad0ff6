"""Names shared by the runner-side record and the report-side reader (no torch here)."""

ARTEFACT_NAME = "gradient_flow"  # the job artefact written by gradient_flow_artefact, read by the report section

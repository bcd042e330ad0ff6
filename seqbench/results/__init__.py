"""The results store: one SQLite file per output folder, its schema, the job
statuses, the errors for bad input and the JSON form of what it keeps.

The runner (``seqbench.bench``) writes it; the report (``seqbench.report``)
and the command line read it. Neither of those imports the other: this
package is where they meet.
"""

from ._errors import InputError, StoreError
from ._fingerprint import suite_fingerprint
from ._json import canonical_json, json_safe
from ._store import FAILED_STATUSES, SCHEMA_VERSION, STATUSES, ResultsStore, now_iso

__all__ = [
    "ResultsStore",
    "SCHEMA_VERSION",
    "STATUSES",
    "FAILED_STATUSES",
    "GRADIENT_FLOW_ARTEFACT",
    "GATE_TRACES_ARTEFACT",
    "ATTENTION_TEXT_ARTEFACT",
    "InputError",
    "StoreError",
    "canonical_json",
    "json_safe",
    "now_iso",
    "suite_fingerprint",
]

# the artefact name of a job's gradient-flow record: the runner writes it, the report reads it
GRADIENT_FLOW_ARTEFACT = "gradient_flow"
# a fitted LSTM's or GRU's holding gate on the adding problem (the report's "Mechanisms")
GATE_TRACES_ARTEFACT = "gate_traces"
# attention weights of an attention-pooling classifier on a few test sentences
ATTENTION_TEXT_ARTEFACT = "attention_text"

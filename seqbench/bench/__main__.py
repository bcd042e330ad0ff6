"""``python -m seqbench.bench run|results|list ...``: the command line
(``seqbench.cli``), kept under this name for scripts written before the
command line had its own package."""

import sys

from ..cli import main

sys.exit(main())

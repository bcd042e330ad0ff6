"""``python -m seqbench.bench run|results|list``: the runner's commands on their own."""

import sys

from ._cli import main

sys.exit(main())

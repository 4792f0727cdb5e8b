"""`python -m flows` is the `amity` command."""

import sys

from flows.cli import main

sys.exit(main())

"""``python -m embedding_core``: see ``embedding_core.cli``."""

import sys

from embedding_core.cli import main

if __name__ == "__main__":
    sys.exit(main())

"""``python -m smartcrop_cli``: the same as the ``smartcrop`` command."""

import sys

from smartcrop_cli.main import main

if __name__ == "__main__":
    sys.exit(main())

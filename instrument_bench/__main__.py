"""``python -m instrument_bench``."""

import sys

try:  # importing the command line loads TensorFlow: a Ctrl-C then is an interrupt, not a traceback
    from .cli import main
except KeyboardInterrupt:
    print("instrument-bench: interrupted while starting", file=sys.stderr)
    sys.exit(130)

if __name__ == "__main__":
    sys.exit(main())

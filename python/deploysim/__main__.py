"""`python3 -m deploysim sweep ...`: the command-line sweep (also `deploysim sweep ...`)."""

import sys

from .sweep import main

if len(sys.argv) < 2 or sys.argv[1] != "sweep":
    print("usage: python3 -m deploysim sweep SCENARIO --set KEY=V1,V2 ... (see --help)", file=sys.stderr)
    sys.exit(2)
sys.exit(main(sys.argv[2:]))

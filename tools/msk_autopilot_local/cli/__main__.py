"""`python -m msk_autopilot_local.cli`: the same as the `msk-autopilot` script."""

import sys

from msk_autopilot_local.cli import main

sys.exit(main())

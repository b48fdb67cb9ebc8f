from __future__ import annotations

import sys

from devstack.host.cli import main

sys.exit(main())

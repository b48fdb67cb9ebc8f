"""``python -m bench.soak``: the soak run (``make soak``)."""

from bench.soak.run import main

raise SystemExit(main())

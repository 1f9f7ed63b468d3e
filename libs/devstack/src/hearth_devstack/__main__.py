"""`python -m hearth_devstack run` starts Hearth on this machine (see hearth_devstack.cli)."""

from hearth_devstack.cli import main

raise SystemExit(main())

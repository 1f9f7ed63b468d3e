"""Run the check-ins service: `python -m hearth_checkins`."""

from __future__ import annotations

from hearth_checkins.bootstrap import create_app
from hearth_checkins.settings import CheckinsSettings
from hearth_kit.runner import serve


def main() -> None:
    settings = CheckinsSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()

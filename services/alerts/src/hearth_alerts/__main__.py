"""Run the alerts service: `python -m hearth_alerts`."""

from __future__ import annotations

from hearth_alerts.bootstrap import create_app
from hearth_alerts.settings import AlertsSettings
from hearth_kit.runner import serve


def main() -> None:
    settings = AlertsSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()

"""Run the identity service: `python -m hearth_identity`."""

from __future__ import annotations

from hearth_identity.bootstrap import create_app
from hearth_identity.settings import IdentitySettings
from hearth_kit.runner import serve


def main() -> None:
    settings = IdentitySettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()

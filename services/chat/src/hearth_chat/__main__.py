"""Run the chat service: `python -m hearth_chat`."""

from __future__ import annotations

from hearth_chat.bootstrap import create_app
from hearth_chat.settings import ChatSettings
from hearth_kit.runner import serve


def main() -> None:
    settings = ChatSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()

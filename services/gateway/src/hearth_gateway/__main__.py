"""`python -m hearth_gateway`: serve on GATEWAY_HTTP_HOST:GATEWAY_HTTP_PORT."""

from __future__ import annotations

import uvicorn

from hearth_gateway.bootstrap import create_gateway_app, server_config
from hearth_gateway.settings import GatewaySettings
from hearth_kit.logging import configure_logging
from hearth_kit.tracing import make_tracer_provider


def main() -> None:
    settings = GatewaySettings()
    configure_logging(settings.service_name, settings.log_level)
    make_tracer_provider(settings)
    app = create_gateway_app(settings)
    uvicorn.Server(server_config(app, settings)).run()


if __name__ == "__main__":
    main()

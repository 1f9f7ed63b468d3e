"""HTTP side of the service kit: app factory, errors, health, metrics, security."""

from hearth_kit.http.app import ReadinessCheck, create_app
from hearth_kit.http.errors import ApiError, error_body
from hearth_kit.http.security import current_principal, require_roles
from hearth_kit.http.views import id_path, iso

__all__ = [
    "ApiError",
    "ReadinessCheck",
    "create_app",
    "current_principal",
    "error_body",
    "id_path",
    "iso",
    "require_roles",
]

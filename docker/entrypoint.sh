#!/bin/sh
# Runs the Hearth service this image was built for (HEARTH_SERVICE), listening on all of the
# container's interfaces on $PORT unless <SERVICE>_HTTP_HOST / <SERVICE>_HTTP_PORT say otherwise.
set -eu
: "${HEARTH_SERVICE:?HEARTH_SERVICE is not set}"
case "${HEARTH_SERVICE}" in
    *[!a-z0-9_]* | "") echo "bad HEARTH_SERVICE: ${HEARTH_SERVICE}" >&2; exit 64 ;;
esac
prefix=$(printf '%s' "${HEARTH_SERVICE}" | tr '[:lower:]' '[:upper:]')
eval "export ${prefix}_HTTP_HOST=\"\${${prefix}_HTTP_HOST:-0.0.0.0}\""
eval "export ${prefix}_HTTP_PORT=\"\${${prefix}_HTTP_PORT:-\${PORT:-8000}}\""
exec python -m "hearth_${HEARTH_SERVICE}" "$@"

"""`python -m hearth_contracts export DIR`: write every published JSON Schema to DIR."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from hearth_contracts.registry import json_schemas


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "export":
        print("usage: python -m hearth_contracts export DIR", file=sys.stderr)
        return 2
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, schema in json_schemas().items():
        (out / f"{name}.json").write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""The OCDS 1.1.5 release package schema shipped in consultations/schemas/ocds, as an offline validator."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas" / "ocds"


@functools.cache
def package_validator() -> jsonschema.Draft4Validator:
    package = json.loads((SCHEMAS / "release-package-schema.json").read_text(encoding="utf-8"))
    release = json.loads((SCHEMAS / "release-schema.json").read_text(encoding="utf-8"))
    # The package schema refers to the release schema by its remote address: map it to the local copy.
    registry = Registry().with_resource(release["id"], Resource.from_contents(release, default_specification=DRAFT4))
    return jsonschema.Draft4Validator(
        package, registry=registry, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )


def validation_errors(package: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(str(part) for part in error.absolute_path)}: {error.message}"
        for error in package_validator().iter_errors(package)
    ]

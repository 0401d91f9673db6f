"""Field types shared by several resources' models."""

from __future__ import annotations

from typing import Annotated

from pydantic import WithJsonSchema

# A timestamp as the routes write it (``datetime.isoformat()``, UTC): kept as the text
# the route made, as a ``datetime`` field would reformat it (``Z`` for ``+00:00``).
DateTimeText = Annotated[
    str,
    WithJsonSchema({"type": "string", "format": "date-time"}),
]

"""Typed SQLAlchemy models of the SmartCrop schema.

Column names follow the legacy database the downstream readers know (lower case, no
underscores, the programme id in ``link_object_id``). The migrations in
``smartcrop/migrations`` create this schema; a test checks that they agree.

Every table's model is importable from here; each module holds one part of the schema,
and importing this package puts them all on ``Base.metadata`` (what Alembic and the
schema test compare with the database).
"""

from smartcrop.db.models.base import NAMING_CONVENTION, Base
from smartcrop.db.models.counts import (
    ReportDay,
    ReportUserDay,
    WorkItemCount,
)
from smartcrop.db.models.identity import (
    ROLE_ACTIVE,
    ROLE_DELETED,
    AppSettings,
    LoginAttempt,
    RevokedToken,
    Role,
    Rule,
    User,
)
from smartcrop.db.models.ingestion import (
    InputFile,
    UploadFile,
)
from smartcrop.db.models.lookups import (
    AspectRatioLookup,
    ImageLanguageLookup,
    ImageTypeLookup,
    RejectReasonLookup,
)
from smartcrop.db.models.suggestions import (
    CropSuggestion,
    ImageFetch,
)
from smartcrop.db.models.work_items import (
    AspectRatioImage,
    ProgramImage,
    ProgramImageAudit,
)

__all__ = [
    "AppSettings",
    "AspectRatioImage",
    "AspectRatioLookup",
    "Base",
    "CropSuggestion",
    "ImageFetch",
    "ImageLanguageLookup",
    "ImageTypeLookup",
    "InputFile",
    "LoginAttempt",
    "NAMING_CONVENTION",
    "ProgramImage",
    "ProgramImageAudit",
    "RejectReasonLookup",
    "ROLE_ACTIVE",
    "ROLE_DELETED",
    "ReportDay",
    "ReportUserDay",
    "RevokedToken",
    "Role",
    "Rule",
    "UploadFile",
    "User",
    "WorkItemCount",
]

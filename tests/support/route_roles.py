"""Every route of the app, and who may call it according to the contract (section 4).

The table is checked against ``app.routes``: a route added without an entry here fails
``test_every_route_is_in_the_table``, so a new endpoint cannot slip in unprotected.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

ADMIN = frozenset({"admin"})
OPERATOR = frozenset({"admin", "operator"})
QA = frozenset({"admin", "qa"})
WORKFLOW = frozenset({"admin", "operator", "qa"})
ANYONE_SIGNED_IN = WORKFLOW
PUBLIC: frozenset[str] = frozenset()

# path -> roles that may call it (PUBLIC: no token needed)
ROLES: dict[str, frozenset[str]] = {
    "/health": PUBLIC,
    "/user/Login": PUBLIC,
    "/user/Logout": ANYONE_SIGNED_IN,
    "/user/Register": ADMIN,
    "/user/Update": ADMIN,
    "/user/UpdatePassword": ANYONE_SIGNED_IN,  # own e-mail only, checked inside
    "/user/UserRoleDetails": ANYONE_SIGNED_IN,  # own e-mail only, checked inside
    "/user/UserList": ADMIN,
    "/user/Delete": ADMIN,
    "/role/Create": ADMIN,
    "/role/Delete": ADMIN,
    "/role/Update": ADMIN,
    "/role/Get": ADMIN,
    "/role/QCdisable": ADMIN,
    "/role/QCdisablestatus": ADMIN,
    "/rule/Create": ADMIN,
    "/rule/Delete": ADMIN,
    "/rule/Update": ADMIN,
    "/rule/Get": ADMIN,
    "/image/GetImageInfo": OPERATOR,
    "/image/SaveCropedImages": OPERATOR,
    "/image/GetCroppedImageInfo": QA,
    "/image/UpdateCroppedImageInfo": QA,
    "/image/DeleteCroppedImageInfo": WORKFLOW,
    "/image/UpdateStatus": WORKFLOW,
    "/image/UpdateUserLockStatus": WORKFLOW,
    "/image/RenewLock": WORKFLOW,  # the holder only, checked inside
    "/image/History": WORKFLOW,  # an operator: programmes she worked on, inside
    "/image/SuggestCrops": WORKFLOW,
    "/image/SourceImage": WORKFLOW,
    "/lookup/GetImageTypeLookup": WORKFLOW,
    "/lookup/GetImageLanguageLookup": WORKFLOW,
    "/lookup/GetRejectReasonLookup": WORKFLOW,
    "/lookup/GetAspectRatioLookup": WORKFLOW,
    "/dashboard/Totals": WORKFLOW,
    "/dashboard/ProviderList": WORKFLOW,
    "/report/CroppedImageReport": QA,
    "/report/CroppedImageReportDownLoad": QA,
    "/report/TeamStats": QA,
    "/report/TeamStats/Download": QA,
    "/filewatcher/run-local": ADMIN,
    "/filewatcher/download-s3": ADMIN,
    "/filewatcher/download-sftp": ADMIN,
    "/filewatcher/batch/run": ADMIN,
    "/batchjob/run": ADMIN,
    "/dumpdata/run": ADMIN,
    "/filewatcher/runs/{run_id}": ADMIN,
}

# Not API endpoints: the OpenAPI document and its viewers, and static files (the crop
# page's HTML/JS, the demo's sample images, locally stored renditions: the CDN origin
# whose URLs the manifest hands to downstream guides). They hold no data of a user.
OPEN_PATHS = frozenset(
    {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/ui"}
)
STATIC_MOUNTS = frozenset({"/ui", "/demo-images", "/renditions"})

# Answer plain JSON or a file, not the envelope (contract 4 "Envelope").
NO_ENVELOPE = frozenset(
    {
        "/health",
        "/filewatcher/run-local",
        "/filewatcher/download-s3",
        "/filewatcher/download-sftp",
        "/filewatcher/batch/run",
        "/batchjob/run",
        "/dumpdata/run",
        "/filewatcher/runs/{run_id}",
        "/report/CroppedImageReportDownLoad",
        "/report/TeamStats/Download",
        "/image/SourceImage",  # the source image's bytes, for the crop page
    }
)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str

    @property
    def roles(self) -> frozenset[str]:
        return ROLES[self.path]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def api_endpoints(app: FastAPI) -> list[Endpoint]:
    """Every method and path of the app's API routes (not the docs, not mounts)."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.include_in_schema:
            for method in sorted(route.methods):
                found.append(Endpoint(method, context.path or route.path))
    return found


def other_routes(app: FastAPI) -> set[str]:
    """Paths of everything that is not an API route: docs, mounts, redirects."""
    paths = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not (isinstance(route, APIRoute) and route.include_in_schema):
            paths.add(context.path or getattr(route, "path", ""))
    return paths

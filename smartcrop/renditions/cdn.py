"""The CDN rewrite applied to every URL SmartCrop gives out (API and manifest).

``smartcrop_service.cdn.origin_base_url`` at the start of a URL is replaced by
``smartcrop_service.cdn.rewrite_base_url``. Only a whole leading path is replaced:
``https://a.example`` rewrites ``https://a.example/x`` but not
``https://a.example.evil.net/x``.
"""

from __future__ import annotations

from smartcrop.settings import CdnConfig, Settings


def rewrite_url(url: str | None, cdn: CdnConfig) -> str | None:
    if not url or not cdn.origin_base_url:
        return url
    origin = cdn.origin_base_url
    if not url.startswith(origin):
        return url
    rest = url[len(origin) :]
    if not (origin.endswith("/") or rest == "" or rest[0] in "/?#"):
        return url
    rewrite = cdn.rewrite_base_url
    # Keep exactly one '/' at the seam whichever side of it the config wrote one on.
    if rewrite.endswith("/") and rest.startswith("/"):
        rest = rest[1:]
    elif origin.endswith("/") and not rewrite.endswith("/") and rewrite:
        rest = "/" + rest
    return rewrite + rest


def cdn_url(url: str | None, settings: Settings) -> str | None:
    """``url`` as the outside world should see it."""
    return rewrite_url(url, settings.smartcrop_service.cdn)

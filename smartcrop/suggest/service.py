"""Fetch a work item's source image once and suggest its crops: the step the pipeline
runs for every new item (several at a time) and the API runs on demand.

Nothing here holds a database transaction while it waits on the network or analyses
pixels: ``analyse_item`` works on a ``SourceItem`` and answers an ``Outcome``; the
caller stores it with ``store.save_outcome``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace

import httpx

from smartcrop.netfetch import FetchPolicy
from smartcrop.suggest import engine
from smartcrop.suggest.fetch import FetchLimits, fetch_image, make_client
from smartcrop.suggest.store import Outcome, SourceItem, StoredSuggestion

log = logging.getLogger(__name__)

# Images fetched and analysed at once: enough to overlap slow servers, few enough
# not to flood one provider's server or this machine's cores.
WORKERS = 4


def analyse_item(
    item: SourceItem,
    *,
    client: httpx.Client | None = None,
    limits: FetchLimits | None = None,
    policy: FetchPolicy | None = None,
) -> Outcome:
    """Fetch and analyse one item's image; a failure is an Outcome, never raised.
    ``policy`` is the fetch policy (default: every non-public address refused)."""
    fetched = fetch_image(item.url, client=client, limits=limits, policy=policy)
    if not fetched.ok or fetched.data is None:
        return Outcome(
            item,
            "failed",
            reason=fetched.reason,
            http_status=fetched.http_status,
            content_type=fetched.content_type,
        )
    fetched_as = Outcome(
        item,
        "failed",
        http_status=fetched.http_status,
        content_type=fetched.content_type,
        size_bytes=len(fetched.data),
    )
    try:
        image = engine.open_image(fetched.data)
        image_size = image.size
        suggestions = engine.suggest_crops(image, grid=item.declared_size)
    except engine.ImageUnreadable as exc:
        return replace(fetched_as, reason=str(exc))
    except Exception as exc:  # noqa: BLE001 - an odd image is the image's fault
        log.exception("analysing image %s (%s) failed", item.id, item.url)
        return replace(fetched_as, reason=f"the analysis failed ({type(exc).__name__})")
    reason = None
    declared = item.declared_size
    if declared is not None and declared != image_size:
        reason = (
            f"the image is {image_size[0]}x{image_size[1]} but the manifest declared "
            f"{declared[0]}x{declared[1]}: the boxes are in the declared size"
        )
    return replace(
        fetched_as,
        status="ok",
        reason=reason,
        image_size=image_size,
        suggestions=[
            StoredSuggestion(s.aspect_ratio_id, s.box, s.score, s.method)
            for s in suggestions
        ],
    )


def analyse_items(
    items: Iterable[SourceItem],
    *,
    workers: int = WORKERS,
    limits: FetchLimits | None = None,
    policy: FetchPolicy | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> Iterator[Outcome]:
    """Analyse many items, ``workers`` at a time, yielding each outcome as it comes
    (so the caller can store it at once and a stop loses little)."""
    items = list(items)
    if not items:
        return
    limits = limits or FetchLimits()
    with (
        make_client(limits) as client,
        ThreadPoolExecutor(
            max_workers=max(1, min(workers, len(items))),
            thread_name_prefix="suggest",
        ) as pool,
    ):
        futures = {
            pool.submit(
                analyse_item, item, client=client, limits=limits, policy=policy
            ): item
            for item in items
        }
        for future in as_completed(futures):
            item = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # noqa: BLE001 - one image never stops the rest
                log.exception("analysing image %s failed", item.id)
                outcome = Outcome(
                    item, "failed", reason=f"the analysis failed ({type(exc).__name__})"
                )
            if on_outcome is not None:
                on_outcome(outcome)
            yield outcome

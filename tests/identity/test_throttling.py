"""Login throttling in smartcrop.identity: by address across accounts, freed by the
window, and never more checks than the limit when guesses arrive at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from smartcrop import identity
from smartcrop.errors import TooManyRequests, Unauthorized


@pytest.fixture
def session(db_url: str):
    engine = create_engine(db_url)
    with Session(engine, expire_on_commit=False) as session:
        yield session
        session.commit()
    engine.dispose()


def test_an_address_is_throttled_across_accounts_and_freed_by_the_window(
    session: Session, api_settings, make_user
) -> None:
    _, email, password = make_user("admin")
    t0 = datetime.now(UTC)
    window = timedelta(seconds=30)
    kw = {"client_address": "203.0.113.9", "address_limit": 3, "window": window}
    for n in range(3):
        with pytest.raises(Unauthorized):
            identity.login(
                session,
                api_settings,
                email=f"x{n}@example.com",
                password="p",
                now=t0,
                **kw,
            )
    with pytest.raises(TooManyRequests, match="try again in 1 minute"):
        identity.login(
            session, api_settings, email=email, password=password, now=t0, **kw
        )
    # Another address is unaffected.
    result = identity.login(
        session,
        api_settings,
        email=email,
        password=password,
        now=t0,
        **{**kw, "client_address": "198.51.100.1"},
    )
    assert result.role == "admin"
    later = t0 + window + timedelta(seconds=1)
    result = identity.login(
        session, api_settings, email=email, password=password, now=later, **kw
    )
    assert result.user_id > 0


def test_simultaneous_guesses_never_exceed_the_limit(
    db_url: str, api_settings, make_user
) -> None:
    _, email, _ = make_user("operator")
    engine = create_engine(db_url, pool_size=12)
    outcomes: list[str] = []
    barrier = threading.Barrier(12)

    def guess() -> None:
        with Session(engine, expire_on_commit=False) as s:
            barrier.wait()
            try:
                identity.login(
                    s, api_settings, email=email, password="guess!", client_address=None
                )
            except Unauthorized:
                outcomes.append("401")
            except TooManyRequests:
                outcomes.append("429")

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    engine.dispose()
    assert len(outcomes) == 12
    # At most five password checks ran; every other guess was throttled.
    assert outcomes.count("401") <= 5
    assert outcomes.count("429") >= 7

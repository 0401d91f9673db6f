"""Profile (child): the claim + save requests in process, under pyinstrument."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Any

from bench.harness.claim_cycle import ASPECT_1X1, tiny_png
from bench.harness.profiling import maybe_profile


def task_profile(p: dict[str, Any]) -> dict[str, Any]:
    """One operator's claim + save loop through the route functions in this thread
    (what a request runs: token check, claim or save, the Programme answer, its JSON;
    no sockets, no uvicorn), profiled. pyinstrument sees only the thread that starts
    it, so the routes are called here rather than through a test client."""
    os.environ["SMARTCROP_CONFIG"] = p["config"]
    os.environ["SMARTCROP_SERVICE__AUTH__JWT_SECRET"] = "bench-profile-" + "x" * 40
    import json  # noqa: PLC0415

    from fastapi.encoders import jsonable_encoder  # noqa: PLC0415
    from fastapi.testclient import TestClient  # noqa: PLC0415
    from sqlalchemy import create_engine, event  # noqa: PLC0415
    from sqlalchemy.orm import sessionmaker  # noqa: PLC0415

    from api.app import create_app  # noqa: PLC0415
    from api.deps import CurrentUser  # noqa: PLC0415
    from api.routes import image  # noqa: PLC0415
    from smartcrop.identity import authenticate  # noqa: PLC0415
    from smartcrop.renditions.storage import storage_from_settings  # noqa: PLC0415
    from smartcrop.settings import load_settings  # noqa: PLC0415

    settings = load_settings()
    engine = create_engine(p["db_url"], pool_pre_ping=True)
    sessions = sessionmaker(engine, expire_on_commit=False)
    storage = storage_from_settings(settings)
    png = tiny_png()
    # A real token, from the real login route.
    with TestClient(create_app(settings, p["db_url"])) as client:
        token = client.post(
            "/user/Login", json={"EmailID": p["email"], "Password": p["password"]}
        ).json()["Data"]["Token"]

    sent: list[str] = []
    event.listen(
        engine, "before_cursor_execute", lambda _c, _cur, sql, *_a: sent.append(sql)
    )
    claim_statements: list[int] = []
    save_statements: list[int] = []

    def request(work: Any, counts: list[int]) -> Any:
        # As api.deps.get_db and get_current_user do for each request.
        sent.clear()
        session = sessions()
        try:
            who = authenticate(session, settings, token)
            caller = CurrentUser(who.id, who.name, who.email, who.role)
            answer = work(session, caller)
            json.dumps(jsonable_encoder(answer))
            session.commit()
            counts.append(len(sent))
            return answer
        finally:
            session.close()

    cycles = 0
    with maybe_profile(Path(p["profile"]) if p["profile"] else None):
        start = time.perf_counter()
        while True:
            data = request(
                lambda session, caller: image.get_image_info(
                    session, settings, caller, p["provider"], str(p["user_id"])
                ),
                claim_statements,
            )["Data"]
            if data is None:
                break
            body = image.SaveCropsBody(
                ProgramId=data["ProgramId"],
                UserId=p["user_id"],
                Images=[
                    image.ImageBody(
                        ImageId=item["ImageId"],
                        Status=2,
                        Renditions=[
                            image.RenditionBody(
                                AspectRatioId=ASPECT_1X1,
                                X=0,
                                Y=0,
                                Width=8,
                                Height=8,
                                ImageBase64=png,
                            )
                        ],
                    )
                    for item in data["Images"]
                ],
            )
            request(
                lambda session, caller, body=body: image.save_croped_images(
                    body, session, settings, storage, caller
                ),
                save_statements,
            )
            cycles += 1
        seconds = time.perf_counter() - start
    engine.dispose()
    # The last claim found the queue empty; its statements are not a claim's.
    claims_made = claim_statements[: len(save_statements)]
    return {
        "cycles": cycles,
        "seconds": seconds,
        "claim_statements": statistics.median(claims_made) if claims_made else None,
        "save_statements": (
            statistics.median(save_statements) if save_statements else None
        ),
    }

"""Browser hardening headers (issue 15): the crop page under a strict CSP, every
answer unsniffable and unframeable, JSON never cached."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app

COMMON = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def _directives(policy: str) -> dict[str, list[str]]:
    parts = (p.split() for p in policy.split(";") if p.strip())
    return {name: values for name, *values in parts}


def _common(response) -> None:
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, (name, response.url)


def test_the_crop_page_runs_under_a_strict_policy(settings_for, db_url: str) -> None:
    settings = settings_for(
        db_url,
        smartcrop_service={
            "storage": {"public_base_url": "https://renditions.example.com/r"},
            "cdn": {"rewrite_base_url": "https://cdn.example.net/images"},
        },
    )
    with TestClient(create_app(settings, db_url)) as client:
        for path in ("/ui/", "/ui/app.js"):
            response = client.get(path)
            assert response.status_code == 200, path
            _common(response)
            policy = _directives(response.headers["content-security-policy"])
            assert policy["default-src"] == ["'none'"]
            assert policy["script-src"] == ["'self'"]  # no inline script, no eval
            assert policy["style-src"] == ["'self'"]  # no inline style
            assert policy["connect-src"] == ["'self'"]
            assert policy["frame-ancestors"] == ["'none'"]
            assert set(policy["img-src"]) == {
                "'self'",
                "blob:",
                "data:",
                "https://renditions.example.com",
                "https://cdn.example.net",
            }
        page = client.get("/ui/").text
        # What the policy forbids is not in the page: it would be blocked.
        assert "<style" not in page and " style=" not in page
        assert "<script>" not in page and " on" + "click=" not in page


def test_json_answers_and_errors_are_not_cached_framed_or_sniffed(
    client: TestClient, token_for
) -> None:
    _, headers = token_for("qa")
    answers = {
        "authenticated JSON": client.get("/dashboard/Totals", headers=headers),
        "an error": client.get("/dashboard/Totals"),
        "a role refusal": client.get("/user/UserList", headers=headers),
        "login": client.post(
            "/user/Login", json={"EmailID": "nobody@example.com", "Password": "x"}
        ),
    }
    for what, response in answers.items():
        assert response.headers["content-type"].startswith("application/json"), what
        _common(response)
        assert response.headers["cache-control"] == "no-store", what
        policy = _directives(response.headers["content-security-policy"])
        assert policy == {"default-src": ["'none'"], "frame-ancestors": ["'none'"]}
    assert answers["authenticated JSON"].status_code == 200
    assert answers["an error"].status_code == 401


def test_the_xlsx_download_and_the_docs_keep_working(
    client: TestClient, token_for
) -> None:
    _, headers = token_for("qa")
    download = client.get("/report/CroppedImageReportDownLoad", headers=headers)
    assert download.status_code == 200
    _common(download)
    assert "no-store" not in download.headers.get("cache-control", "")
    docs = client.get("/docs")
    assert docs.status_code == 200
    _common(docs)
    # Swagger UI loads from its CDN with inline script: only the frame protection.
    assert docs.headers["content-security-policy"] == "frame-ancestors 'none'"

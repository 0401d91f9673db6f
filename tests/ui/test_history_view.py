"""Send-back comments and History in the web app (issue 17): QA writes a comment with
a send-back or a reject (at most 1,000 characters, counted as typed), the operator sees
it and who sent the image back on the crop view, the review view shows the
programme's History, and a search by Program ID opens any programme's History
read-only, without claiming it. Checked through the API and the database."""

from __future__ import annotations

from typing import Any

from tests.support.browser import Site, Tab, finish_programme
from tests.support.manifest_samples import query

COMMENT = "The 16x9 cuts the title off"
MOVES = {  # the page's words for each audit action
    "claim": "claimed",
    "finish": "finished",
    "qa_claim": "claimed for review",
    "send_back": "sent back",
    "qa_reject": "rejected by QA",
}


def _rows(site: Site, program: str) -> list[tuple[int, int]]:
    return query(
        site.db_url,
        "SELECT status, currentstate FROM smartcrop_programimage"
        " WHERE link_object_id = %s ORDER BY id",
        (program,),
    )


def _audit_count(site: Site, program: str) -> int:
    ((count,),) = query(
        site.db_url,
        "SELECT count(*) FROM smartcrop_programimage_audit WHERE link_object_id = %s",
        (program,),
    )
    return int(count)


def _history_shown(tab: Tab) -> list[list[str]]:
    rows: list[list[str]] = tab.page.evaluate(
        "[...document.querySelectorAll('#history-table tbody tr')]"
        ".map(r => [...r.cells].map(c => c.textContent))"
    )
    return rows


def _same_history(tab: Tab, entries: list[dict[str, Any]]) -> None:
    shown = _history_shown(tab)
    assert [(int(r[1]), r[3], r[6], r[7]) for r in shown] == [
        (
            e["ImageId"],
            MOVES[e["Action"]],
            e["RejectReason"] or "",
            e["Comment"] or "",
        )
        for e in entries
    ]


def _claim_review(tab: Tab, program: str) -> None:
    tab.page.fill("#review-program", program)
    tab.page.click("#review")
    tab.visible("#review-view")
    tab.until(
        "!document.querySelector('#history-panel').hidden &&"
        f" document.querySelector('#history-heading').textContent.endsWith('{program}')"
    )


def test_comments_reach_the_operator_and_history_is_shown(browser, site: Site) -> None:
    _, operator = site.user("operator")
    _, reviewer = site.user("qa")
    sent_back, rejected, waiting = "SH000000017201", "SH000000017202", "SH000000017203"
    images = finish_programme(site, operator, "HIST", sent_back)
    finish_programme(site, operator, "HIST", rejected, images=1)
    finish_programme(site, operator, "HIST", waiting, images=1)

    tab = Tab(browser, site, axe=True)
    page = tab.page
    tab.log_in(reviewer)
    tab.visible("#view-review")
    _claim_review(tab, sent_back)
    history = site.get("/image/History", reviewer, programId=sent_back)["Entries"]
    assert [e["Action"] for e in history][-1] == "qa_claim"
    _same_history(tab, history)

    # At most 1,000 characters, counted as typed.
    page.fill("#review-comment", "x" * 1001)
    assert len(page.input_value("#review-comment")) == 1000
    assert tab.text("#review-comment-count") == "1000 of 1000 characters"
    # A comment goes with a send-back or a reject, not with an approval.
    page.get_by_role("button", name="Approve").click()
    tab.until("document.querySelector('#decide-error').textContent.includes('clear')")
    assert _rows(site, sent_back) == [(2, 1), (2, 1)]  # still in review, still held

    page.fill("#review-comment", COMMENT)
    assert tab.text("#review-comment-count") == f"{len(COMMENT)} of 1000 characters"
    page.select_option("#review-reason", label="Low resolution")
    tab.axe("review view with its comment and history")
    tab.shot("review-history.png")
    page.get_by_role("button", name="Send back to cropping").click()
    tab.until(
        "document.querySelector('#status').textContent"
        f".startsWith('Status updated: {sent_back}')"
    )
    assert _rows(site, sent_back) == [(1, 0), (1, 0)]
    moves = site.get("/image/History", reviewer, programId=sent_back)["Entries"]
    back = [e for e in moves if e["Action"] == "send_back"]
    assert [(e["Comment"], e["RejectReason"]) for e in back] == [
        (COMMENT, "Low resolution")
    ] * 2

    # A reject takes its comment too; the field is empty for the next review.
    _claim_review(tab, rejected)
    assert page.input_value("#review-comment") == ""
    page.fill("#review-comment", "Not our programme")
    page.get_by_role("button", name="Reject").click()
    tab.until(
        "document.querySelector('#status').textContent"
        f".startsWith('Status updated: {rejected}')"
    )
    moves = site.get("/image/History", reviewer, programId=rejected)["Entries"]
    assert moves[-1]["Action"] == "qa_reject"
    assert moves[-1]["Comment"] == "Not our programme"

    # The search: a programme's History read-only, without claiming it.
    before = _audit_count(site, waiting)
    page.get_by_label("Program ID", exact=True).fill(waiting)
    page.get_by_role("button", name="Show history").click()
    tab.until(
        f"document.querySelector('#history-heading').textContent.endsWith('{waiting}')"
    )
    _same_history(
        tab, site.get("/image/History", reviewer, programId=waiting)["Entries"]
    )
    assert page.locator("#review-view").is_hidden()  # nothing opened for review
    assert _rows(site, waiting) == [(2, 0)]  # still waiting, nobody holds it
    assert _audit_count(site, waiting) == before  # no move written
    tab.axe("history read-only")
    tab.close()

    # The operator sees who sent the images back, the reason and the comment.
    tab = Tab(browser, site)
    page = tab.page
    tab.log_in(operator)
    tab.until(
        "[...document.querySelectorAll('#provider option')]"
        ".some(o => o.value === 'HIST')"
    )
    page.select_option("#provider", "HIST")
    page.click("#claim")
    tab.visible("#crop-view")
    tab.until("document.querySelectorAll('.image-card').length === 2")
    notes = page.evaluate(
        "[...document.querySelectorAll('.image-card')].map(c =>"
        " [Number(c.dataset.imageId), c.querySelector('.sent-back').hidden,"
        " c.querySelector('.sent-back').textContent])"
    )
    programme = site.get("/image/GetImageInfo", operator, providerName="HIST")
    qa_name = programme["Images"][0]["SentBackBy"]["UserName"]
    assert sorted(notes) == [
        [image, False, f"Sent back by {qa_name} (reason: Low resolution): {COMMENT}"]
        for image in sorted(images)
    ]
    assert {i["LastComment"] for i in programme["Images"]} == {COMMENT}
    tab.shot("crop-sent-back.png")
    tab.close()

/* The Review view: QA claims a review (GetCroppedImageInfo), sees the renditions
 * and the programme's History (/image/History), and approves, sends back or rejects
 * with a reason and an optional comment for the operator (UpdateStatus), with the
 * keys A, B and X. A search by ProgramId shows any programme's History read-only,
 * without claiming it. The lock's countdown and renewal are lock.js's.
 */

import {
  $,
  api,
  busy,
  fillReasons,
  fillTable,
  loadLookups,
  query,
  say,
  showSentBack,
  state,
} from "./core.js";
import { holdLock, releaseLock } from "./lock.js";

const MAX_COMMENT = 1000; // the API's limit (smartcrop/workflow/comments.py)
const STATUS = { 1: "cropping", 2: "QA", 3: "completed", 4: "rejected" };
const MOVES = {
  claim: "claimed",
  finish: "finished",
  reject: "rejected by the operator",
  qa_claim: "claimed for review",
  approve: "approved",
  send_back: "sent back",
  qa_reject: "rejected by QA",
  release: "released",
  admin_release: "released by an admin",
  expire: "lock expired",
  qa_skipped: "completed without QA",
};

function dataUrl(base64) {
  const type = base64.startsWith("/9j/") ? "image/jpeg" : "image/png";
  return `data:${type};base64,${base64}`;
}

function showReviewWork(open) {
  $("#qa-queue").hidden = open;
  $("#review-view").hidden = !open;
  if (!open) releaseLock("review");
}

export async function enterReview() {
  await loadLookups();
  if (!$("#review-reason").options.length) fillReasons($("#review-reason"));
}

export function resetReview() {
  state.review = null;
  $("#review-images").replaceChildren();
  $("#review-comment").value = "";
  countComment();
  $("#decide-error").textContent = "";
  $("#history-panel").hidden = true;
  showReviewWork(false);
}

/* ------------------------------------------------------------- comment */

function countComment() {
  const length = $("#review-comment").value.length;
  const counter = $("#review-comment-count");
  counter.textContent =
    length > MAX_COMMENT
      ? `${length} characters: ${length - MAX_COMMENT} too many (at most ${MAX_COMMENT})`
      : `${length} of ${MAX_COMMENT} characters`;
  counter.classList.toggle("too-long", length > MAX_COMMENT);
}

function comment() {
  const text = $("#review-comment").value.trim();
  if (text.length > MAX_COMMENT) {
    throw new Error(
      `The comment has ${text.length} characters: at most ${MAX_COMMENT}. Shorten it.`,
    );
  }
  return text || undefined;
}

/* ------------------------------------------------------------- history */

const when = (iso) => iso.replace("T", " ").replace(/\.\d+/, "").replace("+00:00", "");
const place = (status, state) =>
  status === null ? "–" : `${STATUS[status] || status}, ${state ? "locked" : "free"}`;

async function showHistory(programId) {
  const answer = await api(`/image/History?${query({ programId })}`);
  const entries = answer.Data.Entries;
  $("#history-heading").textContent = `History of ${answer.Data.ProgramId}`;
  $("#history-caption").textContent =
    `${entries.length} moves of the programme's images, oldest first`;
  fillTable($("#history-table"), entries, [
    (e) => when(e.At),
    "ImageId",
    (e) =>
      (e.UserName ?? (e.UserId === null ? "the system" : `user ${e.UserId}`)) +
      (e.ForUserId ? ` (for user ${e.ForUserId})` : ""),
    (e) => MOVES[e.Action] || e.Action,
    (e) => place(e.FromStatus, e.FromState),
    (e) => place(e.ToStatus, e.ToState),
    (e) => e.RejectReason ?? "",
    (e) => e.Comment ?? "",
  ]);
  $("#history-panel").hidden = false;
  return answer.Data;
}

/* The search: any programme's History, read-only; no claim, no lock. */
async function searchHistory(event) {
  event.preventDefault();
  await busy(
    $("#history-show"),
    async () => {
      const programId = $("#history-program").value.trim();
      if (!programId) throw new Error("Type a Program ID first.");
      await showHistory(programId);
      say(`History of ${programId} (read-only: nothing was claimed).`, "ok");
    },
    $("#history-error"),
  );
}

function lockLost(words) {
  resetReview();
  $("#review-lost").textContent = words;
  say("");
}

async function claimReview(event) {
  event.preventDefault();
  await busy(
    $("#review"),
    async () => {
      const answer = await api(
        `/image/GetCroppedImageInfo?${query({
          programId: $("#review-program").value.trim(),
          user: state.session.userId,
        })}`,
      );
      if (!answer.Data) {
        say(answer.Message || "No images pending", "ok");
        return;
      }
      openReview(answer.Data);
      say(`Reviewing ${answer.Data.ProgramId}.`, "ok");
    },
    $("#review-error"),
  );
}

function renditionCard(image) {
  const card = document.createElement("article");
  card.className = "card";
  card.dataset.imageId = image.ImageId;
  const head = document.createElement("header");
  head.className = "card-head";
  const heading = document.createElement("h3");
  heading.textContent = `Image ${image.ImageId} · ${image.Width}x${image.Height}`;
  head.append(heading);
  const earlier = document.createElement("p");
  earlier.className = "sent-back";
  earlier.hidden = true;
  showSentBack(earlier, image, "Sent back earlier by");
  const list = document.createElement("div");
  list.className = "renditions";
  for (const rendition of image.Renditions) {
    const figure = document.createElement("figure");
    figure.className = "rendition";
    const img = document.createElement("img");
    img.alt = rendition.AspectRatio;
    img.src = rendition.ImageBase64 ? dataUrl(rendition.ImageBase64) : rendition.Url;
    const caption = document.createElement("figcaption");
    caption.textContent =
      `${rendition.AspectRatio}: ${rendition.Width}x${rendition.Height} ` +
      `at (${rendition.X}, ${rendition.Y})`;
    figure.append(img, caption);
    list.append(figure);
  }
  card.append(head, earlier, list);
  return card;
}

function openReview(programme) {
  state.review = programme;
  $("#review-lost").textContent = "";
  $("#review-title").textContent =
    `${programme.ProgramId} · ${programme.ProgramTitle || ""} · ${programme.ProviderName}`;
  $("#review-images").replaceChildren(...programme.Images.map(renditionCard));
  showReviewWork(true);
  holdLock("review", $("#review-lock"), programme, lockLost);
  busy(null, () => showHistory(programme.ProgramId), $("#history-error"));
}

/* Approve (3), send back (1) or reject (4); the last two with the chosen reason and
 * the comment, if any. */
async function decide(button, status, withReason) {
  await busy(
    button,
    async () => {
      const params = { programId: state.review.ProgramId, status, currentState: 0 };
      if (withReason) {
        params.rejectReasonId = $("#review-reason").value;
        params.comment = comment();
      } else if (comment()) {
        throw new Error(
          "A comment goes with a send-back or a reject: clear it to approve.",
        );
      }
      const answer = await api(`/image/UpdateStatus?${query(params)}`);
      const done = state.review.ProgramId;
      resetReview();
      say(`${answer.Message}: ${done}.`, "ok");
    },
    $("#decide-error"),
  );
}

/* A approves, B sends back, X rejects (the keys of the review view). */
export function reviewKeys(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return false;
  const button = { a: "#approve", b: "#send-back", x: "#reject" }[event.key.toLowerCase()];
  if (!button) return false;
  $(button).click();
  return true;
}

export function initReview() {
  $("#review-form").addEventListener("submit", claimReview);
  $("#approve").addEventListener("click", (e) => decide(e.currentTarget, 3, false));
  $("#send-back").addEventListener("click", (e) => decide(e.currentTarget, 1, true));
  $("#reject").addEventListener("click", (e) => decide(e.currentTarget, 4, true));
  $("#review-comment").addEventListener("input", countComment);
  $("#history-form").addEventListener("submit", searchHistory);
}

/* The Review view: QA claims a review (GetCroppedImageInfo), sees the renditions,
 * and approves, sends back or rejects with a reason (UpdateStatus), with the keys
 * A, B and X. The lock's countdown and renewal are lock.js's.
 */

import { $, api, busy, fillReasons, loadLookups, query, say, state } from "./core.js";
import { holdLock, releaseLock } from "./lock.js";

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
  showReviewWork(false);
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
  card.append(head, list);
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
}

async function decide(button, status, withReason) {
  await busy(button, async () => {
    const params = { programId: state.review.ProgramId, status, currentState: 0 };
    if (withReason) params.rejectReasonId = $("#review-reason").value;
    const answer = await api(`/image/UpdateStatus?${query(params)}`);
    const done = state.review.ProgramId;
    resetReview();
    say(`${answer.Message}: ${done}.`, "ok");
  });
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
}

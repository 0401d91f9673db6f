/* The Crop view: claiming, cropping with Cropper.js, and the keys of both work views.
 *
 * Claim a programme (GetImageInfo) from the provider list (/dashboard/ProviderList,
 * most waiting first), open every image on its suggested box for each aspect ratio
 * (the Programme's Suggestions, or SuggestCrops when it has none), adjust with the
 * mouse or the keys, then save: each crop is drawn onto a canvas at its box's size
 * and sent as base64 PNG (JPEG when a PNG would be too large) with
 * SaveCropedImages. The lock's countdown and renewal are lock.js's; the Review view
 * is review.js's.
 *
 * Boxes are kept in the work item's own pixel grid (its Width x Height), with the
 * aspect ratio exact, as the server checks them.
 */

import {
  $,
  $$,
  api,
  busy,
  fillReasons,
  loadLookups,
  query,
  say,
  showSentBack,
  state,
} from "./core.js";
import { holdLock, releaseLock } from "./lock.js";
import { resetReview, reviewKeys } from "./review.js";

const MAX_RENDITION_BYTES = 9.5 * 1024 * 1024; // under the server's default 10 MB
const COLOURS = ["--r1", "--r2", "--r3", "--r4", "--r5"];

/* ------------------------------------------------------------ providers */

/* The providers with their waiting counts, most waiting first. */
export async function loadProviders() {
  const select = $("#provider");
  const chosen = select.value;
  await busy(
    $("#providers-refresh"),
    async () => {
      const answer = await api(`/dashboard/ProviderList?${query({ pageSize: 500 })}`);
      const items = [...answer.Data.Items].sort(
        (a, b) =>
          b.PendingOperator - a.PendingOperator ||
          a.ProviderName.localeCompare(b.ProviderName),
      );
      select.replaceChildren(
        ...items.map(
          (p) =>
            new Option(`${p.ProviderName} · ${p.PendingOperator} waiting`, p.ProviderName),
        ),
      );
      if (items.some((p) => p.ProviderName === chosen)) select.value = chosen;
    },
    $("#claim-error"),
  );
}

/* ------------------------------------------------------------- panels */

function showCropWork(open) {
  $("#operator-queue").hidden = open;
  $("#crop-view").hidden = !open;
  if (!open) releaseLock("crop");
}

export async function enterCrop() {
  await loadLookups();
  if (!state.programme) await loadProviders();
}

function closeProgramme() {
  destroyCards();
  state.programme = null;
  showCropWork(false);
}

/* Every programme the page works on put down (logging out, releasing one's locks). */
export function resetWork() {
  closeProgramme();
  resetReview();
}

/* The lock was lost (another user took the programme over, or it was released):
 * the work stops, and the alert region says why. */
function lockLost(words) {
  closeProgramme();
  $("#crop-lost").textContent = words;
  say("");
  loadProviders();
}

/* ---------------------------------------------------------------- boxes */

const gcd = (a, b) => (b ? gcd(b, a % b) : a);
const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);

/* The box of ratio w:h nearest to `d` inside W x H, whole pixels, exact ratio (the
 * server's rule: k*w x k*h) when the image holds one unit, else within 1%. */
function snapBox(d, ratio, W, H) {
  const g = gcd(ratio.w, ratio.h);
  const uw = ratio.w / g;
  const uh = ratio.h / g;
  const kmax = Math.min(Math.floor(W / uw), Math.floor(H / uh));
  let w;
  let h;
  if (kmax >= 1) {
    const k = clamp(Math.round(Math.max(d.width / uw, d.height / uh)), 1, kmax);
    w = k * uw;
    h = k * uh;
  } else {
    w = clamp(Math.round(d.width), 1, W);
    h = clamp(Math.round((w * ratio.h) / ratio.w), 1, H);
  }
  const cx = d.x + d.width / 2;
  const cy = d.y + d.height / 2;
  return {
    X: clamp(Math.round(cx - w / 2), 0, W - w),
    Y: clamp(Math.round(cy - h / 2), 0, H - h),
    Width: w,
    Height: h,
  };
}

/* The largest centred box of the ratio: when no suggestion could be had. */
function centreBox(ratio, W, H) {
  const scale = Math.min(W / ratio.w, H / ratio.h);
  return snapBox(
    { x: 0, y: 0, width: ratio.w * scale, height: ratio.h * scale },
    ratio,
    W,
    H,
  );
}

/* ------------------------------------------------------------ cropping */

function destroyCards() {
  for (const card of state.cards) {
    if (card.cropper) card.cropper.destroy();
    if (card.objectUrl) URL.revokeObjectURL(card.objectUrl);
  }
  state.cards = [];
  state.active = 0;
  $("#images").replaceChildren();
}

async function claim(event) {
  event.preventDefault();
  await busy(
    $("#claim"),
    async () => {
      const provider = $("#provider").value;
      if (!provider) throw new Error("Choose a provider first.");
      const answer = await api(
        `/image/GetImageInfo?${query({
          providerName: provider,
          user: state.session.userId,
        })}`,
      );
      if (!answer.Data) {
        say(answer.Message || "No images pending", "ok");
        return;
      }
      await openProgramme(answer.Data);
      say(`Claimed ${answer.Data.ProgramId}: ${answer.Data.Images.length} images.`, "ok");
    },
    $("#claim-error"),
  );
}

async function openProgramme(programme) {
  destroyCards();
  $("#crop-lost").textContent = "";
  state.programme = programme;
  $("#crop-title").textContent =
    `${programme.ProgramId} · ${programme.ProgramTitle || ""} · ${programme.ProviderName}`;
  showCropWork(true);
  holdLock("crop", $("#crop-lock"), programme, lockLost);
  await Promise.all(programme.Images.map((image) => addCard(image)));
  setActive(0, false);
}

function loadInto(img, url, crossOrigin) {
  return new Promise((resolve, reject) => {
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error(`the image ${url} cannot be loaded`));
    if (crossOrigin) img.crossOrigin = "anonymous";
    else img.removeAttribute("crossorigin");
    img.src = url;
  });
}

/* Source pixels the canvas may read: the URL itself when it is on this page's own
 * origin (the demo's images), else the same bytes through the API
 * (/image/SourceImage, with the token) as a blob of this page's own origin. The
 * page's Content-Security-Policy allows images from itself and the rendition
 * origins only, so a provider's URL is never loaded by the browser: the operator's
 * address never reaches a provider, and the server applies its fetch policy. */
function sameOrigin(url) {
  try {
    return new URL(url, window.location.href).origin === window.location.origin;
  } catch (error) {
    return false;
  }
}

async function loadImage(card, img) {
  const image = card.image;
  try {
    if (!sameOrigin(image.ImageUrl)) throw new Error("another origin");
    return await loadInto(img, image.ImageUrl, true);
  } catch (error) {
    const response = await fetch(
      `/image/SourceImage?${query({
        programId: state.programme.ProgramId,
        imageId: image.ImageId,
      })}`,
      { headers: { Authorization: `Bearer ${state.session.token}` } },
    );
    if (!response.ok) {
      let message = `the image ${image.ImageUrl} cannot be loaded`;
      try {
        message = (await response.json()).Message || message;
      } catch (ignored) {
        /* not JSON */
      }
      throw new Error(message);
    }
    card.objectUrl = URL.createObjectURL(await response.blob());
    return loadInto(img, card.objectUrl, false);
  }
}

async function addCard(image) {
  const node = $("#image-card").content.firstElementChild.cloneNode(true);
  node.dataset.imageId = image.ImageId;
  $("#images").append(node);
  const card = {
    image,
    node,
    boxes: {},
    suggestions: {},
    edited: new Set(),
    current: null,
    cropper: null,
    decision: "crop",
  };
  state.cards.push(card);
  $(".image-title", node).textContent =
    `Image ${image.ImageId} · ${image.ImageType || "type unknown"} · ` +
    `${image.Width ?? "?"}x${image.Height ?? "?"}`;
  showSentBack($(".sent-back", node), image, "Sent back by");
  const radios = node.querySelectorAll(".decision input[type=radio]");
  const reason = $(".reject-reason", node);
  fillReasons(reason);
  radios.forEach((radio) => {
    radio.name = `decision-${image.ImageId}`;
    radio.addEventListener("change", () => {
      card.decision = radio.value;
      reason.disabled = radio.value !== "reject";
      node.classList.toggle("rejected", radio.value === "reject");
    });
  });

  const img = $(".source", node);
  try {
    await loadImage(card, img);
  } catch (error) {
    $(".note", node).textContent =
      `${error.message}: reject it (reason Broken image link) if it stays so.`;
    return;
  }
  $(".thumb-img", node).src = img.src;
  // The grid the server checks boxes against: the work item's declared size.
  card.W = image.Width || img.naturalWidth;
  card.H = image.Height || img.naturalHeight;
  card.sx = img.naturalWidth / card.W;
  card.sy = img.naturalHeight / card.H;

  let suggestions = image.Suggestions || [];
  if (suggestions.length === 0) {
    $(".note", node).textContent = "Suggesting crops…";
    try {
      const answer = await api(
        `/image/SuggestCrops?${query({
          programId: state.programme.ProgramId,
          imageId: image.ImageId,
        })}`,
      );
      suggestions = answer.Data.Suggestions;
      $(".note", node).textContent = "";
    } catch (error) {
      $(".note", node).textContent = `${error.message} Centred boxes instead.`;
    }
  }
  for (const s of suggestions) card.suggestions[s.AspectRatioId] = s;
  for (const ratio of state.ratios) {
    const rendition = (image.Renditions || []).find((r) => r.AspectRatioId === ratio.Id);
    const s = card.suggestions[ratio.Id];
    const from = rendition || s || centreBox(ratio, card.W, card.H);
    card.boxes[ratio.Id] = {
      X: from.X,
      Y: from.Y,
      Width: from.Width,
      Height: from.Height,
    };
  }
  buildTabs(card);
  drawOverview(card);
  card.cropper = new Cropper(img, {
    viewMode: 1,
    dragMode: "none",
    autoCropArea: 1,
    zoomable: false,
    rotatable: false,
    scalable: false,
    checkOrientation: false,
    checkCrossOrigin: false,
    background: false,
    responsive: true,
    toggleDragModeOnDblclick: false,
    ready() {
      card.ready = true;
      selectRatio(card, state.ratios[0].Id);
    },
    cropend() {
      keepBox(card);
    },
  });
}

function buildTabs(card) {
  const nav = $(".ratios", card.node);
  nav.replaceChildren();
  state.ratios.forEach((ratio, index) => {
    const tab = document.createElement("button");
    tab.type = "button";
    tab.className = "ratio-tab";
    tab.setAttribute("role", "tab");
    tab.setAttribute("aria-selected", "false");
    tab.tabIndex = -1;
    tab.setAttribute("aria-keyshortcuts", String(index + 1));
    tab.dataset.ratio = ratio.Id;
    tab.style.setProperty("--c", `var(${COLOURS[index % COLOURS.length]})`);
    const s = card.suggestions[ratio.Id];
    const title = document.createElement("span");
    title.textContent = ratio.Title;
    const detail = document.createElement("small");
    detail.textContent = s ? `${s.Method} · ${Number(s.Score).toFixed(2)}` : "no suggestion";
    tab.append(title, detail);
    tab.addEventListener("click", () => selectRatio(card, ratio.Id));
    nav.append(tab);
  });
  nav.addEventListener("keydown", (event) => tabKeys(card, event));
  $(".reset", card.node).addEventListener("click", () => resetBox(card));
}

function resetBox(card) {
  if (!card.cropper || card.current === null) return;
  const s = card.suggestions[card.current];
  const ratio = state.ratios.find((r) => r.Id === card.current);
  const back = s || centreBox(ratio, card.W, card.H);
  card.boxes[card.current] = { X: back.X, Y: back.Y, Width: back.Width, Height: back.Height };
  card.edited.delete(card.current);
  selectRatio(card, card.current);
}

/* The tabs as a tab list: arrow keys (and Home, End) move between them. */
function tabKeys(card, event) {
  const tabs = $$(".ratio-tab", card.node);
  const at = tabs.indexOf(document.activeElement);
  if (at < 0) return;
  const moves = {
    ArrowRight: at + 1,
    ArrowDown: at + 1,
    ArrowLeft: at - 1,
    ArrowUp: at - 1,
    Home: 0,
    End: tabs.length - 1,
  };
  if (!(event.key in moves)) return;
  event.preventDefault();
  event.stopPropagation();
  const next = tabs[(moves[event.key] + tabs.length) % tabs.length];
  next.focus();
  if (card.cropper) selectRatio(card, Number(next.dataset.ratio));
}

function selectRatio(card, ratioId) {
  if (card.current !== null && card.current !== ratioId) keepBox(card);
  card.current = ratioId;
  const ratio = state.ratios.find((r) => r.Id === ratioId);
  card.node.querySelectorAll(".ratio-tab").forEach((tab) => {
    const selected = Number(tab.dataset.ratio) === ratioId;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
  });
  const box = card.boxes[ratioId];
  card.cropper.setAspectRatio(ratio.w / ratio.h);
  card.cropper.setData({
    x: box.X * card.sx,
    y: box.Y * card.sy,
    width: box.Width * card.sx,
    height: box.Height * card.sy,
  });
  showBox(card);
}

/* The cropper's box (natural pixels) back into the grid, snapped to the ratio. */
function keepBox(card) {
  if (!card.cropper || card.current === null) return;
  const ratio = state.ratios.find((r) => r.Id === card.current);
  const d = card.cropper.getData();
  const snapped = snapBox(
    { x: d.x / card.sx, y: d.y / card.sy, width: d.width / card.sx, height: d.height / card.sy },
    ratio,
    card.W,
    card.H,
  );
  const before = card.boxes[card.current];
  if (JSON.stringify(before) !== JSON.stringify(snapped)) {
    card.boxes[card.current] = snapped;
    card.edited.add(card.current);
  }
  // Show the box as it will be saved (whole pixels, exact ratio).
  card.cropper.setData({
    x: snapped.X * card.sx,
    y: snapped.Y * card.sy,
    width: snapped.Width * card.sx,
    height: snapped.Height * card.sy,
  });
  showBox(card);
}

function showBox(card) {
  const box = card.boxes[card.current];
  const ratio = state.ratios.find((r) => r.Id === card.current);
  $(".box-text", card.node).textContent =
    `${ratio.Title}: ${box.Width}x${box.Height} at (${box.X}, ${box.Y})`;
  card.node.querySelectorAll(".ratio-tab").forEach((tab) => {
    tab.classList.toggle("edited", card.edited.has(Number(tab.dataset.ratio)));
  });
  drawOverview(card);
}

function drawOverview(card) {
  const svg = $(".boxes", card.node);
  svg.setAttribute("viewBox", `0 0 ${card.W} ${card.H}`);
  svg.setAttribute("preserveAspectRatio", "none");
  const ns = "http://www.w3.org/2000/svg";
  const legend = $(".legend", card.node);
  svg.replaceChildren();
  legend.replaceChildren();
  state.ratios.forEach((ratio, index) => {
    const box = card.boxes[ratio.Id];
    const colour = `var(${COLOURS[index % COLOURS.length]})`;
    const rect = document.createElementNS(ns, "rect");
    rect.setAttribute("x", box.X);
    rect.setAttribute("y", box.Y);
    rect.setAttribute("width", box.Width);
    rect.setAttribute("height", box.Height);
    rect.style.stroke = colour;
    rect.dataset.ratio = ratio.Id;
    if (ratio.Id === card.current) rect.classList.add("active");
    svg.append(rect);
    const s = card.suggestions[ratio.Id];
    const item = document.createElement("li");
    item.style.setProperty("--c", colour);
    item.append(
      document.createElement("i"),
      `${ratio.Title} ${box.Width}x${box.Height}${s ? ` · ${s.Method}` : ""}${
        card.edited.has(ratio.Id) ? " · edited" : ""
      }`,
    );
    legend.append(item);
  });
}

/* One crop at its box's size, as base64 without the data-URL prefix. */
function render(card, box) {
  const canvas = document.createElement("canvas");
  canvas.width = box.Width;
  canvas.height = box.Height;
  const context = canvas.getContext("2d");
  context.imageSmoothingQuality = "high";
  context.drawImage(
    $(".source", card.node),
    box.X * card.sx,
    box.Y * card.sy,
    box.Width * card.sx,
    box.Height * card.sy,
    0,
    0,
    box.Width,
    box.Height,
  );
  let url = canvas.toDataURL("image/png");
  if ((url.length * 3) / 4 > MAX_RENDITION_BYTES) {
    for (const quality of [0.92, 0.85, 0.75]) {
      url = canvas.toDataURL("image/jpeg", quality);
      if ((url.length * 3) / 4 <= MAX_RENDITION_BYTES) break;
    }
  }
  return url.slice(url.indexOf(",") + 1);
}

async function saveCrops() {
  await busy($("#save"), async () => {
    const images = [];
    for (const card of state.cards) {
      if (card.decision === "reject") {
        images.push({
          ImageId: card.image.ImageId,
          Status: 4,
          RejectReasonId: Number($(".reject-reason", card.node).value),
          Renditions: [],
        });
        continue;
      }
      if (!card.cropper) {
        throw new Error(
          `Image ${card.image.ImageId} could not be loaded: reject it to save the programme.`,
        );
      }
      keepBox(card);
      say(`Rendering image ${card.image.ImageId}…`);
      const renditions = state.ratios.map((ratio) => {
        const box = card.boxes[ratio.Id];
        return { AspectRatioId: ratio.Id, ...box, ImageBase64: render(card, box) };
      });
      images.push({ ImageId: card.image.ImageId, Status: 2, Renditions: renditions });
    }
    say("Saving…");
    const answer = await api("/image/SaveCropedImages", {
      method: "POST",
      body: {
        ProgramId: state.programme.ProgramId,
        UserId: state.session.userId,
        Images: images,
      },
    });
    const saved = state.programme.ProgramId;
    closeProgramme();
    say(`${answer.Message}: ${saved}. Claim the next programme when ready.`, "ok");
    await loadProviders();
  });
}

async function releaseProgramme() {
  await busy($("#release-programme"), async () => {
    await api(
      `/image/UpdateStatus?${query({
        programId: state.programme.ProgramId,
        status: 1,
        currentState: 0,
      })}`,
    );
    const released = state.programme.ProgramId;
    closeProgramme();
    say(`${released} is back in the queue.`, "ok");
    await loadProviders();
  });
}

/* ---------------------------------------------------------------- keys */

function setActive(index, focus = true) {
  if (!state.cards.length) return;
  state.active = Math.min(Math.max(index, 0), state.cards.length - 1);
  state.cards.forEach((card, i) => {
    const on = i === state.active;
    card.node.classList.toggle("active", on);
    if (on) card.node.setAttribute("aria-current", "true");
    else card.node.removeAttribute("aria-current");
  });
  if (focus) {
    const node = state.cards[state.active].node;
    node.focus({ preventScroll: true });
    node.scrollIntoView({ block: "nearest" });
  }
}

/* Apply a box (grid pixels) to the card's current ratio and show it. */
function putBox(card, box) {
  const ratio = state.ratios.find((r) => r.Id === card.current);
  const snapped = snapBox(
    { x: box.X, y: box.Y, width: box.Width, height: box.Height },
    ratio,
    card.W,
    card.H,
  );
  if (JSON.stringify(snapped) !== JSON.stringify(card.boxes[card.current])) {
    card.boxes[card.current] = snapped;
    card.edited.add(card.current);
  }
  card.cropper.setData({
    x: snapped.X * card.sx,
    y: snapped.Y * card.sy,
    width: snapped.Width * card.sx,
    height: snapped.Height * card.sy,
  });
  showBox(card);
}

function moveBox(card, dx, dy) {
  const box = card.boxes[card.current];
  putBox(card, {
    ...box,
    X: clamp(box.X + dx, 0, card.W - box.Width),
    Y: clamp(box.Y + dy, 0, card.H - box.Height),
  });
}

/* Grow or shrink at the ratio, about the centre, by one unit of the ratio's
 * whole-pixel grid or 2 % of the box, whichever is more. */
function resizeBox(card, direction) {
  const ratio = state.ratios.find((r) => r.Id === card.current);
  const box = card.boxes[card.current];
  const g = gcd(ratio.w, ratio.h);
  const uw = ratio.w / g;
  const uh = ratio.h / g;
  const k = box.Width / uw;
  const step = Math.max(1, Math.round(k * 0.02));
  const nk = Math.max(1, k + direction * step);
  const width = nk * uw;
  const height = nk * uh;
  if (width > card.W || height > card.H) return;
  putBox(card, {
    X: box.X + (box.Width - width) / 2,
    Y: box.Y + (box.Height - height) / 2,
    Width: width,
    Height: height,
  });
}

function rejectCard(card) {
  const reject = $('.decision input[value="reject"]', card.node);
  reject.checked = true;
  reject.dispatchEvent(new Event("change"));
  $(".reject-reason", card.node).focus();
}

const typing = (target) =>
  target instanceof HTMLElement &&
  (target.isContentEditable || ["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName));

export function showKeyHelp() {
  const dialog = $("#key-help");
  if (!dialog.open) dialog.showModal();
}

function cropKeys(event) {
  const card = state.cards[state.active];
  const key = event.key;
  if (key === "Enter" && (event.ctrlKey || event.metaKey)) {
    saveCrops();
    return true;
  }
  if (event.ctrlKey || event.metaKey || event.altKey) return false;
  const lower = key.toLowerCase();
  if (lower === "j") setActive(state.active + 1);
  else if (lower === "k") setActive(state.active - 1);
  else if (lower === "r" && card) rejectCard(card);
  else if (!card || !card.ready) return false;
  else if (/^[1-9]$/.test(key)) {
    const ratio = state.ratios[Number(key) - 1];
    if (!ratio) return false;
    selectRatio(card, ratio.Id);
  } else if (key.startsWith("Arrow")) {
    const step = event.shiftKey ? 10 : 1;
    const [dx, dy] = {
      ArrowLeft: [-step, 0],
      ArrowRight: [step, 0],
      ArrowUp: [0, -step],
      ArrowDown: [0, step],
    }[key];
    moveBox(card, dx, dy);
  } else if (key === "+" || key === "=") resizeBox(card, 1);
  else if (key === "-" || key === "_") resizeBox(card, -1);
  else if (lower === "s") resetBox(card);
  else return false;
  return true;
}

function onKey(event) {
  if (event.defaultPrevented || typing(event.target) || $("#key-help").open) return;
  if (event.key === "?") {
    event.preventDefault();
    showKeyHelp();
    return;
  }
  let handled = false;
  if (!$("#crop-view").hidden && !$("#view-crop").hidden) handled = cropKeys(event);
  else if (!$("#review-view").hidden && !$("#view-review").hidden) {
    handled = reviewKeys(event);
  }
  if (handled) event.preventDefault();
}

/* ---------------------------------------------------------------- wiring */

export function initCrop() {
  $("#claim-form").addEventListener("submit", claim);
  $("#providers-refresh").addEventListener("click", loadProviders);
  $("#save").addEventListener("click", saveCrops);
  $("#release-programme").addEventListener("click", releaseProgramme);
  $("#images").addEventListener("focusin", (event) => {
    const index = state.cards.findIndex((c) => c.node.contains(event.target));
    if (index >= 0 && index !== state.active) setActive(index, false);
  });
  // A reason list left with Escape gives the keys back to the card.
  $("#images").addEventListener("keydown", (event) => {
    if (event.key === "Escape" && event.target.classList.contains("reject-reason")) {
      state.cards[state.active]?.node.focus();
    }
  });
  document.addEventListener("keydown", onKey);
}

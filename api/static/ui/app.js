/* SmartCrop crop page: a client of the public API, nothing more.
 *
 * Log in (POST /user/Login; the bearer token is kept in sessionStorage, so it ends
 * with the tab), claim a programme (GetImageInfo), open every image on its suggested
 * box for each aspect ratio (the Programme's Suggestions, or SuggestCrops when it
 * has none), adjust with Cropper.js, then save: each crop is drawn onto a canvas at
 * its box's size and sent as base64 PNG (JPEG when a PNG would be too large) with
 * SaveCropedImages. QA claims a review (GetCroppedImageInfo), sees the renditions,
 * and approves, sends back or rejects with a reason (UpdateStatus).
 *
 * Boxes are kept in the work item's own pixel grid (its Width x Height), with the
 * aspect ratio exact, as the server checks them.
 */
"use strict";

const SESSION_KEY = "smartcrop.session";
const MAX_RENDITION_BYTES = 9.5 * 1024 * 1024; // under the server's default 10 MB
const COLOURS = ["--r1", "--r2", "--r3", "--r4", "--r5"];

const $ = (selector, root = document) => root.querySelector(selector);
const state = {
  session: null,
  ratios: [], // [{Id, Title, w, h}]
  reasons: [], // [{Id, Reason}]
  programme: null,
  cards: [], // per image: {image, boxes, suggestions, current, cropper, ...}
  review: null,
};

/* ------------------------------------------------------------------ API */

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, { method = "GET", body = null, auth = true } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== null) headers["Content-Type"] = "application/json";
  if (auth && state.session) headers.Authorization = `Bearer ${state.session.token}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === null ? null : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, `The API cannot be reached (${error.message})`);
  }
  let payload = null;
  try {
    payload = await response.json();
  } catch (error) {
    throw new ApiError(response.status, `Unexpected answer (HTTP ${response.status})`);
  }
  if (!response.ok || payload.IsSuccess === false) {
    if (response.status === 401 && auth) {
      logout("Your session has ended: log in again.");
    }
    throw new ApiError(response.status, payload.Message || `HTTP ${response.status}`);
  }
  return payload;
}

const query = (params) =>
  Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v ?? "")}`)
    .join("&");

/* ------------------------------------------------------------ messages */

function say(message, kind = "") {
  const status = $("#status");
  status.textContent = message;
  status.className = `status ${kind}`;
}

async function busy(button, work) {
  if (button) button.disabled = true;
  try {
    return await work();
  } catch (error) {
    say(error.message, "error");
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

/* -------------------------------------------------------------- session */

function show(view) {
  for (const id of ["login-view", "queue-view", "crop-view", "review-view"]) {
    $(`#${id}`).hidden = !view.includes(id);
  }
}

function loadSession() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY));
  } catch (error) {
    return null;
  }
}

function logout(message = "") {
  destroyCards();
  sessionStorage.removeItem(SESSION_KEY);
  state.session = null;
  $("#who").hidden = true;
  show(["login-view"]);
  say(message, message ? "error" : "");
}

// "Log out": the token is ended on the server (POST /user/Logout), so a copy of it
// left on a shared workstation is refused at once; the page forgets it either way.
async function endSession() {
  if (state.session) {
    try {
      await api("/user/Logout", { method: "POST" });
    } catch (error) {
      // Already ended or unreachable: the page still forgets the token.
    }
  }
  logout();
}

async function login(event) {
  event.preventDefault();
  await busy($("#login"), async () => {
    const answer = await api("/user/Login", {
      method: "POST",
      auth: false,
      body: { EmailID: $("#email").value, Password: $("#password").value },
    });
    const data = answer.Data;
    state.session = {
      token: data.Token,
      userId: data.UserId,
      userName: data.UserName,
      role: data.RoleName,
    };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(state.session));
    $("#password").value = "";
    await start();
    say(`Welcome, ${data.UserName}.`, "ok");
  });
}

async function start() {
  const { role, userName } = state.session;
  $("#who").hidden = false;
  $("#who-name").textContent = userName;
  $("#who-role").textContent = role;
  const canCrop = role === "operator" || role === "admin";
  const canReview = role === "qa" || role === "admin";
  $("#operator-queue").hidden = !canCrop;
  $("#qa-queue").hidden = !canReview;
  show(["queue-view"]);
  const [ratios, reasons] = await Promise.all([
    api("/lookup/GetAspectRatioLookup"),
    api("/lookup/GetRejectReasonLookup"),
  ]);
  state.ratios = ratios.Data.map((r) => {
    const [w, h] = r.Title.split("x").map(Number);
    return { Id: r.Id, Title: r.Title, w, h };
  });
  state.reasons = reasons.Data;
  fillReasons($("#review-reason"));
  if (canCrop) {
    try {
      const providers = await api(`/dashboard/ProviderList?${query({ pageSize: 500 })}`);
      $("#providers").replaceChildren(
        ...providers.Data.Items.map((p) => new Option(p.ProviderName, p.ProviderName)),
      );
    } catch (error) {
      /* the list only helps typing; the claim works without it */
    }
  }
}

function fillReasons(select) {
  select.replaceChildren(...state.reasons.map((r) => new Option(r.Reason, r.Id)));
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
  $("#images").replaceChildren();
}

async function claim(event) {
  event.preventDefault();
  await busy($("#claim"), async () => {
    const answer = await api(
      `/image/GetImageInfo?${query({
        providerName: $("#provider").value.trim(),
        user: state.session.userId,
      })}`,
    );
    if (!answer.Data) {
      say(answer.Message || "No images pending", "ok");
      return;
    }
    await openProgramme(answer.Data);
    say(`Claimed ${answer.Data.ProgramId}: ${answer.Data.Images.length} images.`, "ok");
  });
}

async function openProgramme(programme) {
  destroyCards();
  state.programme = programme;
  $("#crop-title").textContent =
    `${programme.ProgramId} · ${programme.ProgramTitle || ""} · ${programme.ProviderName}`;
  show(["crop-view"]);
  await Promise.all(programme.Images.map((image) => addCard(image)));
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
  $(".reset", card.node).addEventListener("click", () => {
    const s = card.suggestions[card.current];
    const ratio = state.ratios.find((r) => r.Id === card.current);
    const back = s || centreBox(ratio, card.W, card.H);
    card.boxes[card.current] = { X: back.X, Y: back.Y, Width: back.Width, Height: back.Height };
    card.edited.delete(card.current);
    selectRatio(card, card.current);
  });
}

function selectRatio(card, ratioId) {
  if (card.current !== null && card.current !== ratioId) keepBox(card);
  card.current = ratioId;
  const ratio = state.ratios.find((r) => r.Id === ratioId);
  card.node.querySelectorAll(".ratio-tab").forEach((tab) => {
    tab.setAttribute("aria-selected", String(Number(tab.dataset.ratio) === ratioId));
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
    destroyCards();
    show(["queue-view"]);
    say(`${answer.Message}: ${saved}. Claim the next programme when ready.`, "ok");
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
    destroyCards();
    show(["queue-view"]);
    say(`${state.programme.ProgramId} is back in the queue.`, "ok");
  });
}

/* -------------------------------------------------------------- review */

function dataUrl(base64) {
  const type = base64.startsWith("/9j/") ? "image/jpeg" : "image/png";
  return `data:${type};base64,${base64}`;
}

async function claimReview(event) {
  event.preventDefault();
  await busy($("#review"), async () => {
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
  });
}

function openReview(programme) {
  state.review = programme;
  $("#review-title").textContent =
    `${programme.ProgramId} · ${programme.ProgramTitle || ""} · ${programme.ProviderName}`;
  const root = $("#review-images");
  root.replaceChildren();
  for (const image of programme.Images) {
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
    root.append(card);
  }
  show(["review-view"]);
}

async function decide(button, status, withReason) {
  await busy(button, async () => {
    const params = { programId: state.review.ProgramId, status, currentState: 0 };
    if (withReason) params.rejectReasonId = $("#review-reason").value;
    const answer = await api(`/image/UpdateStatus?${query(params)}`);
    const done = state.review.ProgramId;
    state.review = null;
    show(["queue-view"]);
    say(`${answer.Message}: ${done}.`, "ok");
  });
}

/* ---------------------------------------------------------------- wiring */

async function releaseLocks() {
  await busy($("#release"), async () => {
    const answer = await api(
      `/image/UpdateUserLockStatus?${query({ userId: state.session.userId })}`,
    );
    destroyCards();
    show(["queue-view"]);
    say(`${answer.Data.ReleasedImages} images released.`, "ok");
  });
}

document.addEventListener("DOMContentLoaded", async () => {
  $("#login-form").addEventListener("submit", login);
  $("#claim-form").addEventListener("submit", claim);
  $("#review-form").addEventListener("submit", claimReview);
  $("#save").addEventListener("click", saveCrops);
  $("#release-programme").addEventListener("click", releaseProgramme);
  $("#approve").addEventListener("click", (e) => decide(e.target, 3, false));
  $("#send-back").addEventListener("click", (e) => decide(e.target, 1, true));
  $("#reject").addEventListener("click", (e) => decide(e.target, 4, true));
  $("#logout").addEventListener("click", () => endSession());
  $("#release").addEventListener("click", releaseLocks);
  state.session = loadSession();
  if (!state.session) {
    show(["login-view"]);
    return;
  }
  try {
    await start();
  } catch (error) {
    if (state.session) say(error.message, "error");
  }
});

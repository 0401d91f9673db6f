/* SmartCrop web app: what every view shares (the API client, the session, messages).
 *
 * The page is a client of the public API, nothing more: every request carries the
 * bearer token kept in sessionStorage (it ends with the tab), and every error
 * answer's Message (the contract's envelope) is shown in words beside its form.
 */

export const SESSION_KEY = "smartcrop.session";

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

export const state = {
  session: null,
  ratios: [], // [{Id, Title, w, h}]
  reasons: [], // [{Id, Reason}]
  programme: null,
  cards: [], // per image: {image, boxes, suggestions, current, cropper, ...}
  active: 0, // the card the keys act on
  review: null,
};

// Set by app.js: what to do when the API says the token is no longer good.
export const hooks = { unauthorized: () => {} };

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const STATUS_WORDS = {
  400: "The request was refused",
  401: "You are not logged in",
  403: "Your role may not do this",
  404: "Not found",
  409: "Conflict",
  422: "The form is incomplete",
};

/* The envelope's Message, in words; the status only when the answer has none. */
export function errorWords(status, message) {
  if (message) return message;
  return STATUS_WORDS[status] || `The server answered HTTP ${status}`;
}

/* How far the server's clock is ahead of this computer's (ms), from the Date header
 * of the API's answers: lock expiries are the server's times. A header names the
 * whole second in which it was made (and a busy server makes it late), so the server's
 * clock is taken as the end of that second, which errs early by under a second when
 * the header is fresh: a countdown then shows a little less than is left, never more.
 * The largest offset seen is kept, unless an answer differs by more than a minute
 * (this computer's clock was set, or it woke from sleep), which then replaces it. */
let skew = null;

export const serverNow = () => Date.now() + (skew ?? 0);

function noteServerClock(response) {
  const date = Date.parse(response.headers.get("Date") || "");
  if (Number.isNaN(date)) return;
  const sample = date + 1000 - Date.now();
  if (skew === null || sample > skew || skew - sample > 60_000) skew = sample;
}

export async function request(path, { method = "GET", body = null } = {}) {
  const headers = {};
  if (body !== null) headers["Content-Type"] = "application/json";
  if (state.session) headers.Authorization = `Bearer ${state.session.token}`;
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
  noteServerClock(response);
  return response;
}

export async function api(path, { method = "GET", body = null, auth = true } = {}) {
  const saved = state.session;
  if (!auth) state.session = null;
  let response;
  try {
    response = await request(path, { method, body });
  } finally {
    if (!auth) state.session = saved;
  }
  let payload = null;
  try {
    payload = await response.json();
  } catch (error) {
    throw new ApiError(response.status, errorWords(response.status, ""));
  }
  if (!response.ok || payload.IsSuccess === false) {
    if (response.status === 401 && auth) {
      hooks.unauthorized("Your session has ended: log in again.");
    }
    throw new ApiError(response.status, errorWords(response.status, payload.Message));
  }
  return payload;
}

export const query = (params) =>
  Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v ?? "")}`)
    .join("&");

export function say(message, kind = "") {
  const status = $("#status");
  status.textContent = message;
  status.className = `status ${kind}`;
}

/* Run `work` with `button` disabled; an error goes to `errorBox` (beside the form)
 * or, without one, to the status line. */
export async function busy(button, work, errorBox = null) {
  if (button) button.disabled = true;
  if (errorBox) errorBox.textContent = "";
  try {
    return await work();
  } catch (error) {
    if (errorBox) errorBox.textContent = error.message;
    else say(error.message, "error");
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

export function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  row.append(td);
  return td;
}

export function fillTable(table, rows, columns) {
  const body = $("tbody", table);
  body.replaceChildren(
    ...rows.map((item) => {
      const tr = document.createElement("tr");
      for (const column of columns) {
        cell(tr, typeof column === "function" ? column(item) : item[column]);
      }
      return tr;
    }),
  );
}

/* A pager (Previous, "Page n of m", Next) over a paged answer's Data. */
export function showPager(pager, data, go) {
  const total = Math.max(data.TotalPages, 1);
  $(".page-text", pager).textContent =
    `Page ${data.PageNumber} of ${total} (${data.TotalCount} rows)`;
  const prev = $(".prev", pager);
  const next = $(".next", pager);
  prev.disabled = data.PageNumber <= 1;
  next.disabled = data.PageNumber >= total;
  prev.onclick = () => go(data.PageNumber - 1);
  next.onclick = () => go(data.PageNumber + 1);
}

/* ------------------------------------------------------------- lookups */

/* The aspect ratios and reject reasons, read once per session. */
export async function loadLookups() {
  if (state.ratios.length) return;
  const [ratios, reasons] = await Promise.all([
    api("/lookup/GetAspectRatioLookup"),
    api("/lookup/GetRejectReasonLookup"),
  ]);
  state.ratios = ratios.Data.map((r) => {
    const [w, h] = r.Title.split("x").map(Number);
    return { Id: r.Id, Title: r.Title, w, h };
  });
  state.reasons = reasons.Data;
}

export function fillReasons(select) {
  select.replaceChildren(...state.reasons.map((r) => new Option(r.Reason, r.Id)));
}

/* Why QA sent an image back, and who (the Programme's SentBackBy and LastComment,
 * with the reason the row still carries), in `node`; nothing if it never was. */
export function showSentBack(node, image, lead) {
  if (!image.SentBackBy) return;
  const reason = state.reasons.find((r) => r.Id === image.RejectReasonId);
  const words = document.createElement("strong");
  words.textContent = `${lead} ${image.SentBackBy.UserName}`;
  node.replaceChildren(words, reason ? ` (reason: ${reason.Reason})` : "");
  if (image.LastComment) {
    const quote = document.createElement("q");
    quote.textContent = image.LastComment;
    node.append(": ", quote);
  } else {
    node.append(", without a comment.");
  }
  node.hidden = false;
}

/* ------------------------------------------------------------ downloads */

/* A file the API streams (an XLSX report), fetched with the token and saved from a
 * blob: a plain link could not carry the Authorization header. */
export async function downloadFile(path, fallbackName) {
  const response = await request(path);
  if (!response.ok) {
    let message = "";
    try {
      message = (await response.json()).Message;
    } catch (error) {
      /* not JSON */
    }
    throw new ApiError(response.status, errorWords(response.status, message));
  }
  const disposition = response.headers.get("Content-Disposition") || "";
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] || fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/* The lock on a claimed programme: its countdown, its renewal while the user works,
 * and what the page does when it is lost.
 *
 * The countdown runs to the claim answer's LockExpiresAt (the server's lock timeout,
 * whatever it is configured to), on the server's clock: every API answer's Date
 * header tells how far this computer's clock is from it (core.js), so a workstation
 * whose clock is minutes off still counts right.
 *
 * While the tab is visible and the user active (a key, pointer or input event in the
 * last ACTIVE_MS), the lock is renewed (GET /image/RenewLock) once less than a third
 * of its timeout is left, and the countdown restarts from the answer. An idle user's
 * lock is left to lapse; it is renewed as soon as they come back, if nobody has taken
 * the programme meanwhile. A renewal answered 409 (another user took the programme
 * over, or the lock was released) stops the work on the programme: the view closes
 * and says why in its alert region. Other failures (the network) are retried.
 */

import { api, query, serverNow } from "./core.js";

export const ACTIVE_MS = 5 * 60_000;
const RETRY_MS = 15_000; // between two failed renewals
const EXPIRING_MS = 5 * 60_000; // the countdown turns red

let lastActivity = Date.now();
const locks = {}; // by view: "crop", "review"

function noteActivity() {
  lastActivity = Date.now();
}

for (const type of ["keydown", "pointerdown", "pointermove", "input", "wheel"]) {
  document.addEventListener(type, noteActivity, { capture: true, passive: true });
}
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState !== "visible") return;
  for (const lock of Object.values(locks)) tick(lock);
});

const active = () =>
  document.visibilityState === "visible" && Date.now() - lastActivity < ACTIVE_MS;

function clockText(ms) {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const mm = String(Math.floor(seconds / 60)).padStart(2, "0");
  const ss = String(seconds % 60).padStart(2, "0");
  return `${mm}:${ss}`;
}

/* When the answer came: its expiry, and the timeout it implies (the longest seen for
 * this programme: a fresh claim's or a renewal's is the whole timeout). */
function setExpiry(lock, expiresAt) {
  lock.expiresAt = expiresAt;
  lock.expires = Date.parse(expiresAt);
  lock.timeout = Math.max(lock.timeout || 0, lock.expires - serverNow());
}

function render(lock) {
  const left = lock.expires - serverNow();
  const until = document.createElement("time");
  until.dateTime = lock.expiresAt;
  until.textContent = new Date(lock.expires).toLocaleTimeString([], {
    hour: "2-digit",
    minute: "2-digit",
  });
  const node = lock.node;
  if (left > 0) {
    node.replaceChildren(`Lock: ${clockText(left)} left (until `, until, ")");
  } else {
    node.replaceChildren(
      "Lock expired at ",
      until,
      ": keep working to renew it if nobody has taken the programme, or claim again.",
    );
  }
  if (lock.note) node.append(` ${lock.note}`);
  node.classList.toggle("expiring", left < EXPIRING_MS);
  node.dataset.left = String(Math.max(0, Math.floor(left / 1000)));
}

function tick(lock) {
  if (locks[lock.view] !== lock) return;
  render(lock);
  const left = lock.expires - serverNow();
  if (
    !lock.renewing &&
    active() &&
    left < lock.timeout / 3 &&
    Date.now() - lock.lastTry >= RETRY_MS
  ) {
    renew(lock);
  }
}

async function renew(lock) {
  lock.renewing = true;
  lock.lastTry = Date.now();
  try {
    const answer = await api(
      `/image/RenewLock?${query({ programId: lock.programId })}`,
    );
    if (locks[lock.view] !== lock) return;
    setExpiry(lock, answer.Data.LockExpiresAt);
    lock.note = "";
    render(lock);
  } catch (error) {
    if (locks[lock.view] !== lock) return;
    if (error.status === 409 || error.status === 404) {
      const programId = lock.programId;
      releaseLock(lock.view);
      lock.onLost(`Work on ${programId} stopped: ${error.message}.`);
    } else if (error.status !== 401) {
      lock.note = `(Renewal failed: ${error.message}; trying again.)`;
      render(lock);
    }
  } finally {
    lock.renewing = false;
  }
}

/* Count down (and renew) the lock of `programme`, a claim answer, in the view's
 * timer node; `onLost(words)` closes the view when the lock is gone. */
export function holdLock(view, node, programme, onLost) {
  releaseLock(view);
  const lock = {
    view,
    node,
    programId: programme.ProgramId,
    onLost,
    renewing: false,
    lastTry: 0,
    note: "",
  };
  setExpiry(lock, programme.LockExpiresAt);
  locks[view] = lock;
  lock.timer = setInterval(() => tick(lock), 1000);
  tick(lock);
}

export function releaseLock(view) {
  const lock = locks[view];
  if (!lock) return;
  clearInterval(lock.timer);
  delete locks[view];
}

/* SmartCrop web app: log in, then one view per URL (#/crop, #/review, #/dashboard,
 * #/reports, #/team, #/users, #/roles, #/qa-rules), shown by role; reload and back work
 * because the view lives in the address. Plain ES modules, no build step: every
 * view is a client of the public API (see core.js). */

import { initAdmin, enterQaRules, enterRoles, enterUsers } from "./admin.js";
import { $, $$, SESSION_KEY, api, busy, hooks, query, say, state } from "./core.js";
import { enterCrop, initCrop, resetWork, showKeyHelp } from "./crop.js";
import { enterDashboard, leaveDashboard } from "./dashboard.js";
import { enterReports, initReports, resetReports } from "./reports.js";
import { enterReview, initReview } from "./review.js";
import { enterTeam, initTeam, resetTeam } from "./team.js";

const VIEWS = {
  crop: { roles: ["operator", "admin"], enter: enterCrop },
  review: { roles: ["qa", "admin"], enter: enterReview },
  dashboard: { roles: ["operator", "qa", "admin"], enter: enterDashboard },
  reports: { roles: ["qa", "admin"], enter: enterReports },
  team: { roles: ["qa", "admin"], enter: enterTeam },
  users: { roles: ["admin"], enter: enterUsers },
  roles: { roles: ["admin"], enter: enterRoles },
  "qa-rules": { roles: ["admin"], enter: enterQaRules },
};
const HOME = { operator: "crop", qa: "review", admin: "dashboard" };

const allowed = (view) => VIEWS[view] && VIEWS[view].roles.includes(state.session.role);

function currentView() {
  return window.location.hash.replace(/^#\/?/, "");
}

async function route() {
  const view = currentView();
  if (!state.session) {
    showOnly("login-view");
    return;
  }
  if (!view || !VIEWS[view]) {
    window.location.replace(`#/${HOME[state.session.role] || "dashboard"}`);
    return;
  }
  if (view !== "dashboard") leaveDashboard();
  for (const link of $$("#nav a")) {
    if (link.dataset.view === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (!allowed(view)) {
    showOnly("denied-view");
    return;
  }
  showOnly(`view-${view}`);
  document.title = `SmartCrop · ${$(`#nav a[data-view="${view}"]`).textContent}`;
  try {
    await VIEWS[view].enter();
  } catch (error) {
    if (state.session) say(error.message, "error");
  }
}

function showOnly(id) {
  for (const section of $$("main > section")) section.hidden = section.id !== id;
}

/* -------------------------------------------------------------- session */

function loadSession() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY));
  } catch (error) {
    return null;
  }
}

function logout(message = "") {
  resetWork();
  resetReports();
  resetTeam();
  leaveDashboard();
  sessionStorage.removeItem(SESSION_KEY);
  state.session = null;
  state.ratios = [];
  $("#who").hidden = true;
  $("#nav").hidden = true;
  showOnly("login-view");
  say(message, message ? "error" : "");
  $("#email").focus();
}
hooks.unauthorized = logout;

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
    start();
    await route();
    say(`Welcome, ${data.UserName}.`, "ok");
  });
}

/* The header for the session's user: their name, role and the links of their role
 * (the others are hidden, not just disabled). */
function start() {
  const { role, userName } = state.session;
  $("#who").hidden = false;
  $("#who-name").textContent = userName;
  $("#who-role").textContent = role;
  for (const item of $$("#nav li")) {
    item.hidden = !item.dataset.roles.split(" ").includes(role);
  }
  $("#nav").hidden = false;
}

async function releaseMyLocks() {
  await busy($("#release"), async () => {
    const answer = await api(
      `/image/UpdateUserLockStatus?${query({ userId: state.session.userId })}`,
    );
    resetWork();
    say(`${answer.Data.ReleasedImages} images released.`, "ok");
    await route();
  });
}

/* ---------------------------------------------------------------- wiring */

$("#login-form").addEventListener("submit", login);
$("#logout").addEventListener("click", () => endSession());
$("#release").addEventListener("click", releaseMyLocks);
$("#keys").addEventListener("click", showKeyHelp);
window.addEventListener("hashchange", route);
initCrop();
initReview();
initReports();
initTeam();
initAdmin();

state.session = loadSession();
if (state.session) start();
route();

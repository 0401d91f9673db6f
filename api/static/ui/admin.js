/* The admin views: Users, Roles and QA rules, each form with its API error beside it.
 *
 * Users: /user/UserList, /user/Register (role from /role/Get), /user/Update (name,
 * role, active), /user/Delete (deactivate), /user/UpdatePassword (an admin resets
 * without the old one), /image/UpdateUserLockStatus (release all locks of a user).
 * Roles: /role/Get, Create, Update (rename), Delete. QA rules: /rule/Get, Create,
 * Update, Delete, and the QA switch (/role/QCdisablestatus, /role/QCdisable).
 */

import { $, $$, api, busy, fillTable, query, say } from "./core.js";

let users = [];
let roles = [];
let rules = [];

/* ---------------------------------------------------------------- roles */

async function loadRoles() {
  roles = (await api("/role/Get")).Data;
  fillTable($("#role-table"), roles, ["Id", "RoleName", (r) => (r.Status ? "active" : "inactive")]);
  for (const select of $$(".role-select")) {
    const chosen = select.value;
    select.replaceChildren(...roles.map((r) => new Option(r.RoleName, r.RoleName)));
    // A new account is most often an operator; never preselect admin by list order.
    const fallback = roles.some((r) => r.RoleName === "operator") ? "operator" : "";
    if (roles.some((r) => r.RoleName === chosen)) select.value = chosen;
    else if (fallback) select.value = fallback;
  }
}

/* ---------------------------------------------------------------- users */

async function loadUsers() {
  users = (await api("/user/UserList")).Data;
  fillTable($("#user-table"), users, [
    "UserId",
    "UserName",
    "EmailID",
    "RoleName",
    (u) => (u.IsActive ? "yes" : "no"),
  ]);
  const select = $("#edit-user");
  const chosen = select.value;
  select.replaceChildren(
    ...users.map((u) => new Option(`${u.UserName} (${u.EmailID})`, u.UserId)),
  );
  if (users.some((u) => String(u.UserId) === chosen)) select.value = chosen;
  showChosenUser();
}

function chosenUser() {
  return users.find((u) => String(u.UserId) === $("#edit-user").value);
}

function showChosenUser() {
  const user = chosenUser();
  if (!user) return;
  $("#edit-name").value = user.UserName;
  $("#edit-role").value = user.RoleName;
  $("#edit-active").checked = user.IsActive;
}

function register(event) {
  event.preventDefault();
  busy(
    $("#register"),
    async () => {
      const name = $("#register-name").value.trim();
      await api("/user/Register", {
        method: "POST",
        body: {
          UserName: name,
          EmailID: $("#register-email").value.trim(),
          Password: $("#register-password").value,
          RoleName: $("#register-role").value,
        },
      });
      $("#register-form").reset();
      // reset() selects the list's first role again (admin): back to operator.
      if (roles.some((r) => r.RoleName === "operator")) {
        $("#register-role").value = "operator";
      }
      await loadUsers();
      say(`${name} is registered.`, "ok");
    },
    $("#register-error"),
  );
}

function userAction(button, work) {
  return busy(
    button,
    async () => {
      const user = chosenUser();
      if (!user) throw new Error("Choose a user first.");
      const message = await work(user);
      await loadUsers();
      say(message, "ok");
    },
    $("#edit-error"),
  );
}

function saveUser(event) {
  event.preventDefault();
  userAction($("#edit-save"), async (user) => {
    await api("/user/Update", {
      method: "POST",
      body: {
        UserId: user.UserId,
        UserName: $("#edit-name").value.trim(),
        RoleName: $("#edit-role").value,
        IsActive: $("#edit-active").checked,
      },
    });
    return `${user.EmailID} is saved.`;
  });
}

function resetPassword() {
  userAction($("#edit-reset"), async (user) => {
    await api("/user/UpdatePassword", {
      method: "POST",
      body: { EmailID: user.EmailID, NewPassword: $("#edit-password").value },
    });
    $("#edit-password").value = "";
    return `The password of ${user.EmailID} is reset.`;
  });
}

function deactivate() {
  userAction($("#edit-deactivate"), async (user) => {
    await api("/user/Delete", { method: "POST", body: { UserId: user.UserId } });
    return `${user.EmailID} is deactivated: they can no longer log in.`;
  });
}

function releaseLocks() {
  userAction($("#edit-release"), async (user) => {
    const answer = await api(
      `/image/UpdateUserLockStatus?${query({ userId: user.UserId })}`,
    );
    return `${answer.Data.ReleasedImages} images of ${user.EmailID} released.`;
  });
}

/* ---------------------------------------------------------------- roles */

function roleAction(button, errorBox, work) {
  return busy(
    button,
    async () => {
      const message = await work();
      await loadRoles();
      say(message, "ok");
    },
    errorBox,
  );
}

function createRole(event) {
  event.preventDefault();
  const name = $("#role-create-name").value.trim();
  roleAction(event.submitter, $("#role-create-error"), async () => {
    await api("/role/Create", { method: "POST", body: { RoleName: name } });
    $("#role-create-name").value = "";
    return `The role ${name} is created.`;
  });
}

function renameRole(event) {
  event.preventDefault();
  const role = $("#role-edit-role").value;
  const name = $("#role-edit-name").value.trim();
  roleAction(event.submitter, $("#role-edit-error"), async () => {
    if (!name) throw new Error("Give the new name.");
    await api("/role/Update", {
      method: "POST",
      body: { RoleName: role, NewRoleName: name },
    });
    $("#role-edit-name").value = "";
    return `The role ${role} is now ${name}.`;
  });
}

function deleteRole() {
  const role = $("#role-edit-role").value;
  roleAction($("#role-delete"), $("#role-edit-error"), async () => {
    await api("/role/Delete", { method: "POST", body: { RoleName: role } });
    return `The role ${role} is deleted.`;
  });
}

/* ------------------------------------------------------------- QA rules */

async function loadRules() {
  rules = (await api("/rule/Get")).Data;
  fillTable($("#rule-table"), rules, [
    "Id",
    "Status",
    (r) => `${r.Percentage} %`,
    (r) => (r.IsActive ? "yes" : "no"),
  ]);
  const select = $("#rule-edit-rule");
  const chosen = select.value;
  select.replaceChildren(
    ...rules.map((r) => new Option(`Rule ${r.Id}: ${r.Percentage} % to ${r.Status}`, r.Id)),
  );
  if (rules.some((r) => String(r.Id) === chosen)) select.value = chosen;
  showChosenRule();
}

function showChosenRule() {
  const rule = rules.find((r) => String(r.Id) === $("#rule-edit-rule").value);
  if (!rule) return;
  $("#rule-edit-status").value = String(rule.Status);
  $("#rule-edit-percentage").value = rule.Percentage;
  $("#rule-edit-active").checked = rule.IsActive;
}

function ruleAction(button, errorBox, work) {
  return busy(
    button,
    async () => {
      const message = await work();
      await loadRules();
      say(message, "ok");
    },
    errorBox,
  );
}

function createRule(event) {
  event.preventDefault();
  ruleAction(event.submitter, $("#rule-create-error"), async () => {
    const answer = await api("/rule/Create", {
      method: "POST",
      body: {
        Status: Number($("#rule-create-status").value),
        Percentage: Number($("#rule-create-percentage").value),
      },
    });
    return `Rule ${answer.Data.Id} is created.`;
  });
}

function chosenRuleId() {
  const id = Number($("#rule-edit-rule").value);
  if (!id) throw new Error("Choose a rule first.");
  return id;
}

function saveRule(event) {
  event.preventDefault();
  ruleAction(event.submitter, $("#rule-edit-error"), async () => {
    const id = chosenRuleId();
    await api("/rule/Update", {
      method: "POST",
      body: {
        Id: id,
        Status: Number($("#rule-edit-status").value),
        Percentage: Number($("#rule-edit-percentage").value),
        IsActive: $("#rule-edit-active").checked,
      },
    });
    return `Rule ${id} is saved.`;
  });
}

function deleteRule() {
  ruleAction($("#rule-delete"), $("#rule-edit-error"), async () => {
    const id = chosenRuleId();
    await api("/rule/Delete", { method: "POST", body: { Id: id } });
    return `Rule ${id} is deleted.`;
  });
}

function showQa(disabled) {
  const on = !disabled;
  $("#qa-switch").setAttribute("aria-checked", String(on));
  $("#qa-state").textContent = on
    ? "On: finished programmes go to QA as the rules say."
    : "Off: finished programmes are completed without QA.";
}

async function loadQa() {
  showQa((await api("/role/QCdisablestatus")).Data.QCDisabled);
}

function toggleQa() {
  const button = $("#qa-switch");
  const on = button.getAttribute("aria-checked") === "true";
  busy(
    button,
    async () => {
      const answer = await api(`/role/QCdisable?${query({ status: on ? 1 : 0 })}`);
      showQa(answer.Data.QCDisabled);
      say(`QA review is ${answer.Data.QCDisabled ? "off" : "on"}.`, "ok");
      button.focus();
    },
    $("#qa-switch-error"),
  );
}

/* --------------------------------------------------------------- views */

export function enterUsers() {
  return busy(null, async () => {
    await loadRoles();
    await loadUsers();
  }, $("#edit-error"));
}

export function enterRoles() {
  return busy(null, loadRoles, $("#role-edit-error"));
}

export function enterQaRules() {
  return Promise.all([
    busy(null, loadQa, $("#qa-switch-error")),
    busy(null, loadRules, $("#rule-edit-error")),
  ]);
}

export function initAdmin() {
  $("#register-form").addEventListener("submit", register);
  $("#edit-form").addEventListener("submit", saveUser);
  $("#edit-user").addEventListener("change", showChosenUser);
  $("#edit-reset").addEventListener("click", resetPassword);
  $("#edit-deactivate").addEventListener("click", deactivate);
  $("#edit-release").addEventListener("click", releaseLocks);
  $("#role-create-form").addEventListener("submit", createRole);
  $("#role-edit-form").addEventListener("submit", renameRole);
  $("#role-delete").addEventListener("click", deleteRole);
  $("#qa-switch").addEventListener("click", toggleQa);
  $("#rule-create-form").addEventListener("submit", createRule);
  $("#rule-edit-form").addEventListener("submit", saveRule);
  $("#rule-edit-rule").addEventListener("change", showChosenRule);
  $("#rule-delete").addEventListener("click", deleteRule);
}

/* The Team view (qa, admin): /report/TeamStats per user and UTC day, filtered by
 * dates and provider, as a table and, per person, a small bar chart of their work per
 * day (an inline SVG, no chart library; its accessible name carries every number it
 * draws); "Download XLSX" gets /report/TeamStats/Download with the same filters. */

import { $, api, busy, downloadFile, fillTable, query } from "./core.js";

const SVG = "http://www.w3.org/2000/svg";
const MAX_DAYS = 62; // bars per chart; a longer period shows its last days
const DAY_MS = 86_400_000;
let loaded = false;

const utcDay = (ms) => new Date(ms).toISOString().slice(0, 10);

function filters() {
  return {
    fromDate: $("#team-from").value || undefined,
    toDate: $("#team-to").value || undefined,
    providerName: $("#team-provider").value.trim() || undefined,
  };
}

/* Numbers as the API gives them ("–" for none); a share as a percentage. */
const figure = (value) => (value === null || value === undefined ? "–" : String(value));
const share = (value) =>
  value === null || value === undefined ? "–" : `${Math.round(value * 1000) / 10} %`;

export const TEAM_COLUMNS = [
  "Day",
  (row) => row.UserName ?? `user ${row.UserId}`,
  (row) => row.RoleName ?? "–",
  (row) => figure(row.ImagesFinished),
  (row) => figure(row.RenditionsSaved),
  (row) => figure(row.MedianSecondsToFinish),
  (row) => figure(row.P90SecondsToFinish),
  (row) => figure(row.SentBackOrRejected),
  (row) => share(row.SentBackShare),
  (row) => figure(row.ImagesReviewed),
];

/* The days the charts show: the period asked for, else the days the rows span. */
function chartDays(rows, asked) {
  const first = asked.fromDate || rows[0]?.Day;
  const last = asked.toDate || rows[rows.length - 1]?.Day;
  if (!first || !last) return [];
  const end = Date.parse(`${last}T00:00:00Z`);
  const start = Math.max(Date.parse(`${first}T00:00:00Z`), end - (MAX_DAYS - 1) * DAY_MS);
  const days = [];
  for (let t = start; t <= end; t += DAY_MS) days.push(utcDay(t));
  return days;
}

function svgNode(name, attributes = {}) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
}

/* One person's bars: what they finished per day (what they reviewed, for those who
 * finished nothing in the period). */
function personChart(person, days) {
  const reviewer =
    person.rows.every((r) => !r.ImagesFinished) &&
    person.rows.some((r) => r.ImagesReviewed);
  const key = reviewer ? "ImagesReviewed" : "ImagesFinished";
  const what = reviewer ? "images reviewed" : "images finished";
  const byDay = new Map(person.rows.map((r) => [r.Day, r[key]]));
  const values = days.map((day) => byDay.get(day) || 0);
  const total = values.reduce((a, b) => a + b, 0);
  const top = Math.max(1, ...values);
  const width = 240;
  const height = 64;
  const gap = days.length > 31 ? 1 : 2;
  const bar = Math.max(1, (width - gap * (days.length - 1)) / Math.max(1, days.length));

  const words =
    `${person.name}: ${what} per day, ` +
    days.map((day, i) => `${day} ${values[i]}`).join(", ") +
    ` (${total} in all)`;
  const svg = svgNode("svg", {
    viewBox: `0 0 ${width} ${height + 1}`,
    width: String(width),
    height: String(height + 1),
    role: "img",
    "aria-label": words,
    class: "bars",
  });
  const title = svgNode("title");
  title.textContent = words;
  svg.append(title);
  values.forEach((value, i) => {
    const h = value ? Math.max(2, (value / top) * height) : 0;
    const rect = svgNode("rect", {
      x: String(i * (bar + gap)),
      y: String(height - h),
      width: String(bar),
      height: String(h),
    });
    const tip = svgNode("title");
    tip.textContent = `${days[i]}: ${value}`;
    rect.append(tip);
    svg.append(rect);
  });
  const base = String(height);
  svg.append(svgNode("line", { x1: "0", x2: String(width), y1: base, y2: base }));

  const finished = person.rows.reduce((a, r) => a + r.ImagesFinished, 0);
  const returned = person.rows.reduce((a, r) => a + r.SentBackOrRejected, 0);
  const reviewed = person.rows.reduce((a, r) => a + r.ImagesReviewed, 0);
  const caption = document.createElement("figcaption");
  const name = document.createElement("strong");
  name.textContent = person.name;
  const facts = [`${finished} finished`];
  if (finished) {
    const part = Math.round((returned / finished) * 1000) / 10;
    facts.push(`${part} % sent back or rejected`);
  }
  if (reviewed) facts.push(`${reviewed} reviewed`);
  caption.append(name, ` (${person.role}) · ${facts.join(" · ")}`);
  const small = document.createElement("span");
  small.className = "hint";
  small.textContent =
    `${what} per day, ${days[0]} to ${days[days.length - 1]}, highest ${top}`;
  caption.append(document.createElement("br"), small);

  const box = document.createElement("figure");
  box.className = "person";
  box.dataset.userId = String(person.id);
  box.append(caption, svg);
  return box;
}

function drawCharts(rows, asked) {
  const people = new Map();
  for (const row of rows) {
    if (!people.has(row.UserId)) {
      people.set(row.UserId, {
        id: row.UserId,
        name: row.UserName ?? `user ${row.UserId}`,
        role: row.RoleName ?? "no role",
        rows: [],
      });
    }
    people.get(row.UserId).rows.push(row);
  }
  const days = chartDays(rows, asked);
  const sorted = [...people.values()].sort((a, b) => a.name.localeCompare(b.name));
  $("#team-charts").replaceChildren(...sorted.map((p) => personChart(p, days)));
}

async function show() {
  await busy(
    $("#team-show"),
    async () => {
      const asked = filters();
      const answer = await api(`/report/TeamStats?${query(asked)}`);
      fillTable($("#team-table"), answer.Data, TEAM_COLUMNS);
      $("#team-count").textContent = String(answer.Data.length);
      drawCharts(answer.Data, asked);
    },
    $("#team-error"),
  );
}

function download() {
  return busy(
    $("#team-download"),
    () =>
      downloadFile(`/report/TeamStats/Download?${query(filters())}`, "TeamStats.xlsx"),
    $("#team-error"),
  );
}

export async function enterTeam() {
  if (loaded) return;
  loaded = true;
  const today = Date.now();
  $("#team-from").value = utcDay(today - 13 * DAY_MS);
  $("#team-to").value = utcDay(today);
  try {
    const answer = await api(`/dashboard/ProviderList?${query({ pageSize: 500 })}`);
    $("#team-providers").replaceChildren(
      ...answer.Data.Items.map((p) => new Option(p.ProviderName)),
    );
  } catch (error) {
    /* the list only helps typing */
  }
  await show();
}

export function resetTeam() {
  loaded = false;
}

export function initTeam() {
  $("#team-form").addEventListener("submit", (event) => {
    event.preventDefault();
    show();
  });
  $("#team-download").addEventListener("click", download);
}

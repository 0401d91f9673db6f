/* The Dashboard view: /dashboard/Totals as numbers and /dashboard/ProviderList as a
 * table paged as the API pages it, refreshed every 30 s while the view is visible. */

import { $, $$, api, busy, fillTable, query, showPager } from "./core.js";

const REFRESH_MS = 30_000;
let timer = null;
let pageNumber = 1;

async function refresh() {
  await busy(
    null,
    async () => {
      const [totals, providers] = await Promise.all([
        api("/dashboard/Totals"),
        api(`/dashboard/ProviderList?${query({ pageNumber, pageSize: 20 })}`),
      ]);
      for (const dd of $$("#totals dd")) {
        dd.textContent = String(totals.Data[dd.dataset.total]);
      }
      fillTable($("#provider-table"), providers.Data.Items, [
        "ProviderName",
        "TotalImages",
        "PendingOperator",
        "PendingQA",
        "Completed",
        "Rejected",
      ]);
      showPager($("#provider-pager"), providers.Data, (n) => {
        pageNumber = n;
        refresh();
      });
      $("#dashboard-updated").textContent =
        `Updated at ${new Date().toLocaleTimeString()}; refreshed every 30 s.`;
    },
    $("#dashboard-error"),
  );
}

export function enterDashboard() {
  leaveDashboard();
  refresh();
  timer = setInterval(() => {
    if (document.visibilityState === "visible") refresh();
  }, REFRESH_MS);
}

export function leaveDashboard() {
  clearInterval(timer);
  timer = null;
}

// Back to a visible tab: fresh numbers at once.
document.addEventListener("visibilitychange", () => {
  if (timer && document.visibilityState === "visible") refresh();
});

/* The Reports view: /report/CroppedImageReport with every filter of the contract
 * (dates, provider, user) and the status (beyond it), paged, and "Download XLSX":
 * the same filters sent to /report/CroppedImageReportDownLoad, so the workbook holds
 * exactly the rows shown (all pages of them). */

import { $, api, busy, downloadFile, fillTable, query, showPager, state } from "./core.js";

const STATUS = { 1: "1: cropping", 2: "2: QA", 3: "3: completed", 4: "4: rejected" };
let loaded = false;

function filters() {
  return {
    fromDate: $("#report-from").value || undefined,
    toDate: $("#report-to").value || undefined,
    providerName: $("#report-provider").value.trim() || undefined,
    userId: $("#report-user").value || undefined,
    status: $("#report-status").value || undefined,
  };
}

async function show(pageNumber = 1) {
  await busy(
    $("#report-show"),
    async () => {
      const answer = await api(
        `/report/CroppedImageReport?${query({
          ...filters(),
          pageNumber,
          pageSize: $("#report-size").value,
        })}`,
      );
      fillTable($("#report-table"), answer.Data.Items, [
        "ProgramId",
        "ProviderName",
        "ProgramTitle",
        "ImageId",
        "AspectRatio",
        (row) => STATUS[row.Status] || row.Status,
        "CroppedBy",
        "CroppedAt",
        "ReviewedBy",
        "ReviewedAt",
        "OutputFileName",
      ]);
      $("#report-count").textContent = String(answer.Data.TotalCount);
      showPager($("#report-pager"), answer.Data, show);
    },
    $("#report-error"),
  );
}

function download() {
  return busy(
    $("#report-download"),
    () =>
      downloadFile(
        `/report/CroppedImageReportDownLoad?${query(filters())}`,
        "CroppedImageReport.xlsx",
      ),
    $("#report-error"),
  );
}

/* Users to filter by: every user for an admin (/user/UserList), else oneself (the
 * API lets anyone else ask only for their own rows). */
async function fillChoices() {
  const users = $("#report-user");
  const own = new Option(`${state.session.userName} (me)`, state.session.userId);
  if (state.session.role === "admin") {
    try {
      const answer = await api("/user/UserList");
      users.replaceChildren(
        new Option("Any user", ""),
        ...answer.Data.map((u) => new Option(`${u.UserName} (${u.EmailID})`, u.UserId)),
      );
    } catch (error) {
      users.replaceChildren(new Option("Any user", ""), own);
    }
  } else {
    users.replaceChildren(new Option("Any user", ""), own);
  }
  try {
    const answer = await api(`/dashboard/ProviderList?${query({ pageSize: 500 })}`);
    $("#report-providers").replaceChildren(
      ...answer.Data.Items.map((p) => new Option(p.ProviderName)),
    );
  } catch (error) {
    /* the list only helps typing */
  }
}

export async function enterReports() {
  if (!loaded) {
    loaded = true;
    await fillChoices();
    await show(1);
  }
}

export function resetReports() {
  loaded = false;
}

export function initReports() {
  $("#report-form").addEventListener("submit", (event) => {
    event.preventDefault();
    show(1);
  });
  $("#report-download").addEventListener("click", download);
}

/** Reports (the moderation queue: dismiss, or remove what was reported) and a conversation's export. */
import type { CanopyClient, components } from "../../../sdk/src/index.js";
import { h, render } from "../../shared/dom.js";
import { action, field, form, page, table, when } from "../ui.js";

type Report = components["schemas"]["Report"];

export async function reportsPage(c: CanopyClient, status: "open" | "resolved"): Promise<HTMLElement> {
  const list = h("div");
  const load = async () => {
    const { data } = await c.api.GET("/v1/admin/reports", { params: { query: { status, limit: 50 } } });
    const resolve = (r: Report, how: "dismiss" | "remove", label: string) =>
      action(
        `${label} report ${r.id}`,
        async () => {
          await c.api.POST("/v1/admin/reports/{id}/resolve", {
            params: { path: { id: r.id } },
            body: { action: how },
          });
          await load();
          return how === "remove" ? `The reported ${r.targetType} was removed.` : "Report dismissed.";
        },
        how === "remove" ? { class: "danger" } : {},
      );
    render(
      list,
      table<Report>(
        status === "open" ? "Open reports, oldest first" : "Resolved reports",
        [
          { label: "Reported", cell: (r) => `${r.targetType} ${r.targetId}` },
          { label: "Reason", cell: (r) => r.reason },
          { label: "Detail", cell: (r) => r.detail || "—" },
          { label: "By", cell: (r) => r.reporterId },
          { label: "When", cell: (r) => when(r.createdAt) },
          status === "open"
            ? { label: "Actions", cell: (r) => [resolve(r, "dismiss", "Dismiss"), resolve(r, "remove", "Remove")] }
            : { label: "Resolved", cell: (r) => `${r.status}, ${when(r.resolvedAt)}` },
        ],
        data?.items ?? [],
        status === "open" ? "No open reports." : "No resolved reports yet.",
      ),
    );
  };
  await load();
  return page(
    "Reports",
    h(
      "p",
      null,
      status === "open"
        ? h("a", { href: "#/reports?status=resolved" }, "Show resolved reports")
        : h("a", { href: "#/reports" }, "Show open reports"),
    ),
    list,
  );
}

export function exportPage(c: CanopyClient): HTMLElement {
  const id = h("input", { name: "conversationId", required: true, autocomplete: "off" });
  const result = h("div", { "aria-live": "polite" });
  return page(
    "Conversation export",
    h(
      "p",
      null,
      "Every message of a conversation as NDJSON (one archived message per line), for a legal hold or a review.",
    ),
    form(
      "Export a conversation",
      async () => {
        const conversationId = id.value.trim();
        const { data } = await c.api.GET("/v1/admin/conversations/{id}/export", {
          params: { path: { id: conversationId } },
          parseAs: "text",
        });
        const text = data ?? "";
        const lines = text.split("\n").filter(Boolean).length;
        const url = URL.createObjectURL(new Blob([text], { type: "application/x-ndjson" }));
        render(
          result,
          h(
            "p",
            null,
            `${lines} message(s). `,
            h("a", { href: url, download: `conversation-${conversationId}.ndjson` }, "Download the export"),
          ),
        );
      },
      field("Conversation id", id),
      h("button", { type: "submit" }, "Export"),
    ),
    result,
  );
}

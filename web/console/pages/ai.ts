/** AI: units and calls per user and feature over the last 30 days; a grant of extra units to a user. */
import type { CanopyClient, components } from "../../../sdk/src/index.js";
import { h, render } from "../../shared/dom.js";
import { announce, field, form, page, table } from "../ui.js";

type Usage = components["schemas"]["AiUsageTotal"];

export async function aiPage(c: CanopyClient): Promise<HTMLElement> {
  const list = h("div");
  const load = async () => {
    const { data } = await c.api.GET("/v1/admin/ai/usage", { params: { query: { limit: 100 } } });
    const items = data?.items ?? [];
    const units = items.reduce((n, u) => n + u.units, 0);
    render(
      list,
      h("p", null, `${units} unit(s) in ${items.reduce((n, u) => n + u.calls, 0)} call(s) over the window.`),
      table<Usage>(
        "Usage per user and feature",
        [
          {
            label: "User",
            cell: (u) =>
              u.userId
                ? h("a", { href: `#/users/${encodeURIComponent(u.userId)}` }, u.userId)
                : "the tenant's own work",
          },
          { label: "Feature", cell: (u) => u.feature },
          { label: "Units", cell: (u) => String(u.units) },
          { label: "Calls", cell: (u) => String(u.calls) },
        ],
        items,
        "No AI usage in this window.",
      ),
    );
  };
  await load();
  const userId = h("input", { name: "userId", required: true, autocomplete: "off" });
  const units = h("input", { name: "units", type: "number", min: 1, required: true, value: 1000 });
  const reason = h("input", { name: "reason", required: true, maxlength: 500 });
  const grant = form(
    "Grant AI units",
    async (f) => {
      await c.api.POST("/v1/admin/users/{id}/ai-quota/grants", {
        params: { path: { id: userId.value.trim() } },
        body: { units: Number(units.value), reason: reason.value },
      });
      announce(`${units.value} unit(s) granted.`);
      f.reset();
    },
    h("h2", null, "Grant extra units"),
    field("User id", userId),
    field("Units", units),
    field("Reason (kept with the grant)", reason),
    h("button", { type: "submit" }, "Grant"),
  );
  return page("AI usage and quota", list, grant);
}

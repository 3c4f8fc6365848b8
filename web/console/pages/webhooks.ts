/** Webhooks: endpoints (create; the secret is shown once), their deliveries, and retrying one. */
import type { CanopyClient, components } from "../../../sdk/src/index.js";
import { h, render } from "../../shared/dom.js";
import { action, announce, field, form, page, table, when } from "../ui.js";

type Endpoint = components["schemas"]["WebhookEndpoint"];
type Delivery = components["schemas"]["WebhookDelivery"];

export async function webhooksPage(c: CanopyClient): Promise<HTMLElement> {
  const list = h("div");
  const deliveries = h("div", { "aria-live": "polite" });
  const showDeliveries = async (e: Endpoint) => {
    const { data } = await c.api.GET("/v1/admin/webhooks/{id}/deliveries", {
      params: { path: { id: e.id }, query: { limit: 50 } },
    });
    render(
      deliveries,
      h("h2", null, `Deliveries to ${e.url}`),
      table<Delivery>(
        "Deliveries, newest first",
        [
          { label: "Event", cell: (d) => d.eventType },
          { label: "Status", cell: (d) => h("span", { class: `badge ${d.status}` }, d.status) },
          { label: "Attempts", cell: (d) => String(d.attempts) },
          {
            label: "Last answer",
            cell: (d) => (d.lastResponseStatus ? String(d.lastResponseStatus) : d.lastError || "—"),
          },
          { label: "Last attempt", cell: (d) => when(d.lastAttemptAt) },
          {
            label: "Actions",
            cell: (d) =>
              d.status === "succeeded"
                ? "—"
                : action(`Retry ${d.eventType}`, async () => {
                    await c.api.POST("/v1/admin/webhooks/{id}/deliveries/{deliveryId}/retry", {
                      params: { path: { id: e.id, deliveryId: d.id } },
                    });
                    await showDeliveries(e);
                    return "Delivery retried.";
                  }),
          },
        ],
        data?.items ?? [],
        "No deliveries yet.",
      ),
    );
    return undefined;
  };
  const load = async () => {
    const { data } = await c.api.GET("/v1/admin/webhooks", { params: { query: { limit: 50 } } });
    render(
      list,
      table<Endpoint>(
        "Endpoints",
        [
          { label: "URL", cell: (e) => e.url },
          { label: "Events", cell: (e) => e.eventTypes.join(", ") },
          { label: "State", cell: (e) => (e.enabled ? "enabled" : `disabled: ${e.disabledReason ?? "by an admin"}`) },
          { label: "Failures in a row", cell: (e) => String(e.consecutiveFailures) },
          { label: "Actions", cell: (e) => action(`Deliveries to ${e.url}`, () => showDeliveries(e)) },
        ],
        data?.items ?? [],
        "No webhook endpoints.",
      ),
    );
  };
  await load();
  const url = h("input", {
    name: "url",
    type: "url",
    required: true,
    placeholder: "https://example.com/webhooks/canopy",
  });
  const events = h("input", { name: "eventTypes", required: true, value: "*" });
  const secret = h("div", { "aria-live": "polite" });
  const create = form(
    "Add a webhook endpoint",
    async (f) => {
      const eventTypes = events.value
        .split(/[\s,]+/)
        .map((s) => s.trim())
        .filter(Boolean);
      const { data } = await c.api.POST("/v1/admin/webhooks", { body: { url: url.value, eventTypes } });
      render(
        secret,
        data &&
          h(
            "div",
            { class: "secret" },
            h("p", null, "The signing secret, shown this once: store it now."),
            h("output", { class: "mono" }, data.secret),
          ),
      );
      announce(`Endpoint ${url.value} added.`);
      f.reset();
      await load();
    },
    h("h2", null, "Add an endpoint"),
    field("URL (https)", url),
    field("Event types (comma separated; * for all, friend.* for a family)", events),
    h("button", { type: "submit" }, "Add endpoint"),
  );
  return page("Webhooks", list, deliveries, create, secret);
}

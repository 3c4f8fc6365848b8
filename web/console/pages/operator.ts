/** The operator's pages (platform admin token): tenants (create, suspend, resume, migrations), queues and dead letters. */
import type { components } from "../../../sdk/src/index.js";
import { h, render } from "../../shared/dom.js";
import { operatorCall } from "../session.js";
import { action, announce, field, form, page, table, when } from "../ui.js";

type Tenant = components["schemas"]["Tenant"];
type DeadLetter = components["schemas"]["DeadLetter"];
type Migrations = components["schemas"]["MigrationStatus"];
interface QueueRow {
  queue: string;
  processed: number;
  retried: number;
  deadLettered: number;
  lastBatchAt: string | null;
  maxLagMs: number;
}

export function operatorPage(token: string, path: string): Promise<HTMLElement> {
  return path === "/op/queues" ? queuesPage(token) : tenantsPage(token);
}

async function tenantsPage(token: string): Promise<HTMLElement> {
  const list = h("div");
  const detail = h("div", { "aria-live": "polite" });
  const call = <T>(p: string, init?: { method?: string; json?: unknown }) => operatorCall<T>(token, p, init);
  const migrations = async (t: Tenant) => {
    const m = await call<Migrations>(`/admin/v1/tenants/${t.slug}/migrations`);
    render(
      detail,
      h("h2", null, `Migrations of ${t.slug}`),
      h("p", null, `Version ${m.version} of ${m.latest}; ${m.pending.length} pending.`),
      m.pending.length
        ? action("Apply pending migrations", async () => {
            await call(`/admin/v1/tenants/${t.slug}/migrations`, { method: "POST" });
            await migrations(t);
            return `Migrations of ${t.slug} applied.`;
          })
        : null,
    );
    return undefined;
  };
  const load = async () => {
    const { items } = await call<{ items: Tenant[] }>("/admin/v1/tenants?limit=100");
    render(
      list,
      table<Tenant>(
        "Tenants",
        [
          { label: "Slug", cell: (t) => t.slug },
          { label: "Name", cell: (t) => t.name },
          { label: "Status", cell: (t) => h("span", { class: `badge ${t.status}` }, t.status) },
          { label: "Plan", cell: (t) => t.plan },
          {
            label: "Actions",
            cell: (t) => [
              t.status === "active"
                ? action(
                    `Suspend ${t.slug}`,
                    async () => {
                      if (!confirm(`Suspend ${t.slug}? Its API answers 403 until resumed.`)) return undefined;
                      await call(`/admin/v1/tenants/${t.slug}/suspend`, { method: "POST" });
                      await load();
                      return `${t.slug} suspended.`;
                    },
                    { class: "danger" },
                  )
                : t.status === "suspended"
                  ? action(`Resume ${t.slug}`, async () => {
                      await call(`/admin/v1/tenants/${t.slug}/resume`, { method: "POST" });
                      await load();
                      return `${t.slug} resumed.`;
                    })
                  : null,
              action(`Migrations of ${t.slug}`, () => migrations(t)),
            ],
          },
        ],
        items,
      ),
    );
  };
  await load();
  const slug = h("input", {
    name: "slug",
    required: true,
    pattern: "[a-z][a-z0-9\\-]*[a-z0-9]",
    minlength: 3,
    maxlength: 40,
  });
  const name = h("input", { name: "name", required: true, maxlength: 120 });
  const create = form(
    "Create a tenant",
    async (f) => {
      await call("/admin/v1/tenants", { method: "POST", json: { slug: slug.value, name: name.value } });
      announce(`Tenant ${slug.value} created.`);
      f.reset();
      await load();
    },
    h("h2", null, "Create a tenant"),
    field("Slug (lowercase letters, digits and -)", slug),
    field("Name", name),
    h("button", { type: "submit" }, "Create tenant"),
  );
  return page("Tenants", list, detail, create);
}

async function queuesPage(token: string): Promise<HTMLElement> {
  const call = <T>(p: string, init?: { method?: string }) => operatorCall<T>(token, p, init);
  const letters = h("div");
  const { queues } = await call<{ queues: QueueRow[] }>("/admin/v1/queues");
  const loadLetters = async () => {
    const { items } = await call<{ items: DeadLetter[] }>("/admin/v1/dead-letters?limit=50");
    render(
      letters,
      table<DeadLetter>(
        "Dead letters",
        [
          { label: "Queue", cell: (d) => d.queue ?? "—" },
          { label: "Event", cell: (d) => d.eventType ?? "—" },
          { label: "Reason", cell: (d) => d.reason },
          { label: "When", cell: (d) => when(d.createdAt) },
          { label: "Replayed", cell: (d) => (d.replayCount ? `${d.replayCount}×, ${when(d.replayedAt)}` : "no") },
          {
            label: "Actions",
            cell: (d) =>
              action(`Replay ${d.id}`, async () => {
                await call(`/admin/v1/dead-letters/${d.id}/replay`, { method: "POST" });
                await loadLetters();
                return "Replayed.";
              }),
          },
        ],
        items,
        "No dead letters.",
      ),
    );
  };
  await loadLetters();
  return page(
    "Queues",
    table<QueueRow>(
      "Queues",
      [
        { label: "Queue", cell: (q) => q.queue },
        { label: "Processed", cell: (q) => String(q.processed) },
        { label: "Retried", cell: (q) => String(q.retried) },
        { label: "Dead-lettered", cell: (q) => String(q.deadLettered) },
        { label: "Last batch", cell: (q) => when(q.lastBatchAt) },
        { label: "Max lag (ms)", cell: (q) => String(q.maxLagMs) },
      ],
      queues,
    ),
    h("h2", null, "Dead letters"),
    letters,
  );
}

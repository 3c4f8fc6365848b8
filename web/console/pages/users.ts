/** Users: search, a user's page (suspend, resume, force logout, roles, sessions). */
import type { CanopyClient, components } from "../../../sdk/src/index.js";
import { h, render } from "../../shared/dom.js";
import { action, announce, field, form, page, table, when } from "../ui.js";

type AdminUser = components["schemas"]["AdminUser"];
type Role = components["schemas"]["Role"];
type Session = components["schemas"]["Session"];

const who = (u: AdminUser) => u.nickname || u.username || u.email || u.id;

export async function usersPage(c: CanopyClient, query: string): Promise<HTMLElement> {
  const q = h("input", { type: "search", name: "q", value: query, autocomplete: "off" });
  const results = h("div", { "aria-live": "polite" });
  const search = async (text: string) => {
    const { data } = await c.api.GET("/v1/admin/users", { params: { query: { q: text || undefined, limit: 50 } } });
    const items = data?.items ?? [];
    render(
      results,
      table<AdminUser>(
        text ? `Users matching “${text}”` : "Newest users",
        [
          { label: "Nickname", cell: (u) => h("a", { href: `#/users/${encodeURIComponent(u.id)}` }, who(u)) },
          { label: "Email", cell: (u) => u.email ?? "—" },
          { label: "Username", cell: (u) => u.username ?? "—" },
          { label: "Status", cell: (u) => h("span", { class: `badge ${u.status}` }, u.status) },
          { label: "Roles", cell: (u) => u.roles.join(", ") },
        ],
        items,
        "No user matches.",
      ),
    );
  };
  await search(query);
  return page(
    "Users",
    form(
      "Search users",
      async () => {
        history.replaceState(null, "", `#/users?q=${encodeURIComponent(q.value)}`);
        await search(q.value.trim());
      },
      field("Search by nickname, email, username or id", q),
      h("button", { type: "submit" }, "Search"),
    ),
    results,
  );
}

export async function userPage(c: CanopyClient, id: string): Promise<HTMLElement> {
  const { data } = await c.api.GET("/v1/admin/users", { params: { query: { q: id, limit: 50 } } });
  const user = data?.items.find((u) => u.id === id);
  if (!user)
    return page("User not found", h("p", null, "No user has this id."), h("a", { href: "#/users" }, "Back to users"));
  const { data: roleList } = await c.api.GET("/v1/admin/roles", {});
  const body = h("div");
  const sessions = h("div", { "aria-live": "polite" });
  const loadSessions = async () => {
    const { data: list } = await c.api.GET("/v1/admin/users/{id}/sessions", { params: { path: { id } } });
    render(
      sessions,
      table<Session>(
        "Live sessions",
        [
          { label: "Device", cell: (s) => s.device.name ?? s.device.id ?? "—" },
          { label: "Platform", cell: (s) => s.device.platform ?? "—" },
          { label: "Address", cell: (s) => s.ip ?? "—" },
          { label: "Last used", cell: (s) => when(s.lastUsedAt) },
          { label: "Since", cell: (s) => when(s.createdAt) },
        ],
        list?.items ?? [],
        "No live sessions.",
      ),
    );
  };
  const show = (u: AdminUser) => {
    render(body, details(c, u, roleList?.items ?? [], show, loadSessions));
    void loadSessions().catch(() => render(sessions, h("p", { class: "empty" }, "Sessions are not yours to see.")));
  };
  show(user);
  return page(
    `User ${who(user)}`,
    h("p", null, h("a", { href: "#/users" }, "← All users")),
    body,
    h("h2", null, "Sessions"),
    sessions,
  );
}

function details(
  c: CanopyClient,
  u: AdminUser,
  roles: Role[],
  show: (u: AdminUser) => void,
  reloadSessions: () => Promise<void>,
): HTMLElement {
  const facts: [string, string][] = [
    ["Id", u.id],
    ["Nickname", u.nickname ?? "—"],
    ["Email", u.email ?? "—"],
    ["Username", u.username ?? "—"],
    ["Phone", u.phone ?? "—"],
    ["Status", u.status],
    ["Two-factor", u.mfaEnabled ? "on" : "off"],
    ["Joined", when(u.createdAt)],
  ];
  const path = { params: { path: { id: u.id } } };
  const status =
    u.status === "active"
      ? action(
          "Suspend",
          async () => {
            if (!confirm(`Suspend ${who(u)}? Every session of theirs ends now.`)) return undefined;
            const { data } = await c.api.POST("/v1/admin/users/{id}/suspend", path);
            if (data) show(data);
            return `${who(u)} is suspended.`;
          },
          { class: "danger" },
        )
      : action("Resume", async () => {
          const { data } = await c.api.POST("/v1/admin/users/{id}/resume", path);
          if (data) show(data);
          return `${who(u)} is active again.`;
        });
  const logout = action("Force logout", async () => {
    const { data } = await c.api.POST("/v1/admin/users/{id}/force-logout", path);
    await reloadSessions();
    return `${data?.revoked ?? 0} session(s) ended.`;
  });
  const boxes = roles.map((r) =>
    h(
      "label",
      { class: "check" },
      h("input", { type: "checkbox", name: "role", value: r.name, checked: u.roles.includes(r.name) }),
      ` ${r.name}`,
    ),
  );
  const roleForm = form(
    "Roles",
    async (f) => {
      const chosen = [...f.querySelectorAll<HTMLInputElement>("input[name=role]:checked")].map((i) => i.value);
      const { data } = await c.api.PUT("/v1/admin/users/{id}/roles", { ...path, body: { roles: chosen } });
      if (data) show(data);
      announce(`Roles of ${who(u)}: ${chosen.join(", ") || "none"}.`);
    },
    h("fieldset", null, h("legend", null, "Roles"), boxes),
    h("button", { type: "submit" }, "Save roles"),
  );
  return h(
    "div",
    null,
    h(
      "dl",
      { class: "facts" },
      facts.map(([k, v]) => [h("dt", null, k), h("dd", null, v)]),
    ),
    h("div", { class: "actions" }, status, logout),
    roleForm,
  );
}

/** Roles (create, delete) and API keys (create, shown once; revoke). */
import type { CanopyClient, components } from "../../../sdk/src/index.js";
import { h, render } from "../../shared/dom.js";
import { action, announce, field, form, page, table, when } from "../ui.js";

type Role = components["schemas"]["Role"];
type ApiKey = components["schemas"]["ApiKey"];

const lines = (text: string) =>
  text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);

export async function rolesPage(c: CanopyClient): Promise<HTMLElement> {
  const roleList = h("div");
  const keyList = h("div");
  const loadRoles = async () => {
    const { data } = await c.api.GET("/v1/admin/roles", {});
    render(
      roleList,
      table<Role>(
        "Roles",
        [
          { label: "Name", cell: (r) => r.name },
          { label: "Rank", cell: (r) => String(r.rank) },
          { label: "Permissions", cell: (r) => r.permissions.join(", ") || "—" },
          { label: "Description", cell: (r) => r.description || "—" },
          {
            label: "Actions",
            cell: (r) =>
              r.system
                ? "built in"
                : action(
                    `Delete ${r.name}`,
                    async () => {
                      if (!confirm(`Delete the role ${r.name}?`)) return undefined;
                      await c.api.DELETE("/v1/admin/roles/{id}", { params: { path: { id: r.id } } });
                      await loadRoles();
                      return `Role ${r.name} deleted.`;
                    },
                    { class: "danger" },
                  ),
          },
        ],
        data?.items ?? [],
      ),
    );
  };
  const loadKeys = async () => {
    const { data } = await c.api.GET("/v1/admin/api-keys", {});
    render(
      keyList,
      table<ApiKey>(
        "API keys",
        [
          { label: "Name", cell: (k) => k.name },
          { label: "Permissions", cell: (k) => k.permissions.join(", ") },
          { label: "Created", cell: (k) => when(k.createdAt) },
          { label: "Last used", cell: (k) => when(k.lastUsedAt) },
          {
            label: "Actions",
            cell: (k) =>
              action(
                `Revoke ${k.name}`,
                async () => {
                  if (!confirm(`Revoke the key ${k.name}? Calls with it fail from now on.`)) return undefined;
                  await c.api.DELETE("/v1/admin/api-keys/{id}", { params: { path: { id: k.id } } });
                  await loadKeys();
                  return `Key ${k.name} revoked.`;
                },
                { class: "danger" },
              ),
          },
        ],
        data?.items ?? [],
        "No API keys.",
      ),
    );
  };
  await Promise.all([loadRoles(), loadKeys()]);

  const name = h("input", { name: "name", required: true, pattern: "[a-z][a-z0-9_\\-]{1,31}", autocomplete: "off" });
  const description = h("input", { name: "description", maxlength: 200 });
  const rank = h("input", { name: "rank", type: "number", min: 1, max: 99, value: 10 });
  const permissions = h("textarea", { name: "permissions", rows: 3, placeholder: "posts:moderate\nreports:read" });
  const createRole = form(
    "Create a role",
    async (f) => {
      await c.api.POST("/v1/admin/roles", {
        body: {
          name: name.value,
          description: description.value,
          rank: Number(rank.value),
          permissions: lines(permissions.value),
        },
      });
      announce(`Role ${name.value} created.`);
      f.reset();
      await loadRoles();
    },
    h("h2", null, "Create a role"),
    field("Name (2–32 lowercase letters, digits, _ or -)", name),
    field("Description", description),
    field("Rank (1–99, below yours)", rank),
    field("Permissions, one per line (resource:action)", permissions),
    h("button", { type: "submit" }, "Create role"),
  );

  const keyName = h("input", { name: "keyName", required: true, maxlength: 100 });
  const keyPermissions = h("textarea", { name: "keyPermissions", rows: 2, required: true, placeholder: "users:read" });
  const secret = h("div", { "aria-live": "polite" });
  const createKey = form(
    "Create an API key",
    async (f) => {
      const { data } = await c.api.POST("/v1/admin/api-keys", {
        body: { name: keyName.value, permissions: lines(keyPermissions.value) },
      });
      render(
        secret,
        data &&
          h(
            "div",
            { class: "secret" },
            h("p", null, "The key, shown this once: store it now."),
            h("output", { class: "mono" }, data.key),
          ),
      );
      f.reset();
      await loadKeys();
    },
    h("h2", null, "Create an API key"),
    field("Name", keyName),
    field("Permissions, one per line", keyPermissions),
    h("button", { type: "submit" }, "Create key"),
  );
  return page("Roles and API keys", roleList, createRole, h("h2", null, "API keys"), keyList, createKey, secret);
}

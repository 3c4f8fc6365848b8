/**
 * The Canopy console: one page, hash routes (#/users, #/roles, #/stats; #/op/… for the operator),
 * built with `h` (shared/dom.ts) so nothing a user wrote is ever parsed as HTML. Served by the
 * Worker at /console/ under a strict Content-Security-Policy (scripts and styles from itself only).
 */
import type { CanopyClient } from "../../sdk/src/index.js";
import { h, render } from "../shared/dom.js";
import { aiPage } from "./pages/ai.js";
import { configPage } from "./pages/config.js";
import { exportPage, reportsPage } from "./pages/moderation.js";
import { operatorPage } from "./pages/operator.js";
import { rolesPage } from "./pages/roles.js";
import { statsPage } from "./pages/stats.js";
import { userPage, usersPage } from "./pages/users.js";
import { webhooksPage } from "./pages/webhooks.js";
import { forget, lastTenant, remember, rememberTenant, restore, type Session, tenantClient } from "./session.js";
import { announce, fail, field, form, problemText } from "./ui.js";

const root = document.getElementById("app") as HTMLElement;
let session: Session | null = null;

const TENANT_NAV = [
  ["#/users", "Users"],
  ["#/roles", "Roles and keys"],
  ["#/reports", "Reports"],
  ["#/export", "Export"],
  ["#/webhooks", "Webhooks"],
  ["#/stats", "Statistics"],
  ["#/ai", "AI"],
  ["#/config", "Config"],
] as const;

/** The tenant's pages by path (a user's page, #/users/<id>, is matched before these). */
const TENANT_PAGES: Record<string, (c: CanopyClient, params: URLSearchParams) => Promise<HTMLElement> | HTMLElement> = {
  "/users": (c, q) => usersPage(c, q.get("q") ?? ""),
  "/roles": rolesPage,
  "/reports": (c, q) => reportsPage(c, q.get("status") === "resolved" ? "resolved" : "open"),
  "/export": exportPage,
  "/webhooks": webhooksPage,
  "/stats": statsPage,
  "/ai": aiPage,
  "/config": configPage,
};
const OPERATOR_NAV = [
  ["#/op/tenants", "Tenants"],
  ["#/op/queues", "Queues"],
] as const;

function shell(s: Session, who: string): void {
  const nav = s.kind === "tenant" ? TENANT_NAV : OPERATOR_NAV;
  render(
    root,
    // The hash names pages here, so the skip link moves focus itself instead of navigating.
    h(
      "a",
      {
        class: "skip",
        href: "#main",
        onclick: (e) => {
          e.preventDefault();
          document.getElementById("main")?.focus();
        },
      },
      "Skip to content",
    ),
    h(
      "header",
      null,
      h("span", { class: "brand" }, "Canopy console"),
      h("span", { class: "who" }, who),
      h("button", { type: "button", onclick: () => void signOut() }, "Sign out"),
    ),
    h(
      "nav",
      { "aria-label": "Sections" },
      h(
        "ul",
        null,
        nav.map(([href, label]) => h("li", null, h("a", { href }, label))),
      ),
    ),
    h("p", { id: "status", class: "status", role: "status", "aria-live": "polite" }),
    h("main", { id: "main", tabindex: -1 }),
  );
}

async function route(): Promise<void> {
  if (!session) return;
  const main = document.getElementById("main");
  if (!main) return;
  const [path = "", query = ""] = location.hash.slice(1).split("?");
  const params = new URLSearchParams(query);
  announce("");
  for (const a of document.querySelectorAll("nav a"))
    a.toggleAttribute("aria-current", path.startsWith((a.getAttribute("href") ?? "").slice(1)));
  try {
    const view =
      session.kind === "operator"
        ? await operatorPage(session.token, path)
        : path.startsWith("/users/")
          ? await userPage(session.client, decodeURIComponent(path.slice("/users/".length)))
          : await (TENANT_PAGES[path] ?? TENANT_PAGES["/users"]!)(session.client, params);
    render(main, view);
    main.querySelector<HTMLElement>("h1")?.focus();
  } catch (err) {
    render(main, h("h1", { tabindex: -1 }, "This page could not load"), h("p", { class: "error" }, problemText(err)));
  }
}

async function signOut(): Promise<void> {
  if (session?.kind === "tenant") await session.client.auth.signOut().catch(() => undefined);
  session = null;
  forget();
  signInView("Signed out.");
}

async function enter(s: Session): Promise<void> {
  session = s;
  remember(s);
  let who = "Platform operator";
  if (s.kind === "tenant") {
    s.client.auth.on("signedOut", (e) => {
      session = null;
      forget();
      signInView(`Your session ended (${e.code ?? e.reason}). Sign in again.`);
    });
    const { data: me } = await s.client.api.GET("/v1/me", {});
    who = `${me?.nickname || me?.username || me?.email || "you"} · ${s.tenant}`;
  }
  shell(s, who);
  // A new hash routes by its hashchange; the hash the page opened with is routed here.
  if (!location.hash || location.hash === "#") location.hash = s.kind === "tenant" ? "#/users" : "#/op/tenants";
  else await route();
}

function signInView(message = ""): void {
  document.title = "Sign in · Canopy console";
  const tenant = h("input", { name: "tenant", required: true, autocomplete: "organization", value: lastTenant() });
  const identifier = h("input", { name: "identifier", required: true, autocomplete: "username" });
  const password = h("input", { name: "password", type: "password", required: true, autocomplete: "current-password" });
  const code = h("input", { name: "code", inputmode: "numeric", autocomplete: "one-time-code", required: true });
  const adminToken = h("input", { name: "adminToken", type: "password", required: true, autocomplete: "off" });
  const step = h("div");
  const tenantForm = form(
    "Sign in to a tenant",
    async () => {
      const slug = tenant.value.trim().toLowerCase();
      const client = tenantClient(slug);
      const result = await client.auth.signIn({ identifier: identifier.value, password: password.value });
      rememberTenant(slug);
      if (result.status === "signedIn") return enter({ kind: "tenant", tenant: slug, client });
      render(
        step,
        form(
          "Two-factor code",
          async () => {
            await client.auth.verifyMfa(result.mfaToken, code.value.trim());
            await enter({ kind: "tenant", tenant: slug, client });
          },
          field("Code from your authenticator app (or a recovery code)", code),
          h("button", { type: "submit" }, "Verify"),
        ),
      );
      code.focus();
    },
    h("h2", null, "Tenant owners and admins"),
    field("Tenant", tenant),
    field("Email or username", identifier),
    field("Password", password),
    h("button", { type: "submit" }, "Sign in"),
  );
  const operatorForm = form(
    "Sign in as the operator",
    async () => {
      const token = adminToken.value.trim();
      const res = await fetch("/admin/v1/tenants?limit=1", { headers: { authorization: `Bearer ${token}` } });
      if (!res.ok) throw new Error("The platform admin token was refused.");
      await enter({ kind: "operator", token });
    },
    h("h2", null, "Platform operator"),
    field("Platform admin token", adminToken),
    h("button", { type: "submit" }, "Sign in"),
  );
  render(
    root,
    h(
      "main",
      { id: "main", class: "signin" },
      h("h1", null, "Canopy console"),
      h(
        "p",
        { id: "status", class: message ? "status error" : "status", role: "status", "aria-live": "polite" },
        message,
      ),
      tenantForm,
      step,
      operatorForm,
    ),
  );
}

window.addEventListener("hashchange", () => void route());
window.addEventListener("unhandledrejection", (e) => fail(e.reason));
restore()
  .then((s) => (s ? enter(s) : signInView()))
  .catch((err) => {
    signInView();
    announce(problemText(err), "error");
  });

import { generate } from "otplib/functional";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { browserForFile, HOSTILE, screenshot, watch, type Watched } from "./chromium";
import { api, registerUser, stack, tenantWithOwner } from "./helpers";

const browser = browserForFile();

async function signIn(w: Watched, tenant: string, identifier: string, password: string): Promise<void> {
  const { page } = w;
  await page.goto(`${stack().url}/console/`);
  await page.getByLabel("Tenant", { exact: true }).fill(tenant);
  await page.getByLabel("Email or username").fill(identifier);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).first().click();
  await page.getByRole("heading", { name: "Users", level: 1 }).waitFor();
}

/** Nothing on the page overflows a phone's width. */
const fitsWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

describe("the console, in Chromium", () => {
  it("serves the app with a strict CSP, no CDN and no inline code", async () => {
    const res = await fetch(`${stack().url}/console/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(html).not.toMatch(/https?:\/\//);
    expect((await fetch(`${stack().url}/console`)).status).toBe(200);
    const missing = await fetch(`${stack().url}/console/nope.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toContain("application/problem+json");
  });

  it("signs an owner in, finds a user with a hostile nickname (shown as text), suspends them and their session dies", async () => {
    const { slug, owner } = await tenantWithOwner();
    const victim = await registerUser(slug, HOSTILE);
    expect((await api("/v1/me", { tenant: slug, token: victim.tokens.accessToken })).status).toBe(200);

    const w = watch(await browser().newPage());
    await signIn(w, slug, owner.email, owner.password);
    const page = w.page;
    await screenshot(page, "console-users");
    await page.getByLabel(/^Search by/).fill(victim.email);
    await page.getByRole("button", { name: "Search" }).click();
    const link = page.getByRole("link", { name: HOSTILE });
    await link.waitFor();
    // The nickname is text: no <img> made it into the document, nothing ran.
    expect(await page.locator("main img").count()).toBe(0);
    await link.click();
    await page.getByRole("heading", { name: `User ${HOSTILE}` }).waitFor();
    // Their one live session (from the sign-up) is listed.
    const sessions = page.getByRole("table", { name: "Live sessions" });
    await sessions.waitFor();
    expect(await sessions.getByRole("row").count()).toBe(2);
    await screenshot(page, "console-user");
    await page.getByRole("button", { name: "Suspend" }).click();
    await page.getByRole("status").filter({ hasText: "is suspended" }).waitFor();
    await page.getByRole("button", { name: "Resume" }).waitFor();
    // The victim's session died with the suspension: their token no longer works, nor refreshes.
    const after = await api<{ code: string }>("/v1/me", { tenant: slug, token: victim.tokens.accessToken });
    expect(after.status).toBe(401);
    const refresh = await api<{ code: string }>("/v1/auth/refresh", {
      tenant: slug,
      json: { refreshToken: victim.tokens.refreshToken },
    });
    expect(refresh.status).toBe(401);
    // Force logout ends what is left; the page shows none.
    await page.getByRole("button", { name: "Force logout" }).click();
    await page.getByText("No live sessions.").waitFor();
    expect(w.incidents).toEqual([]);
  });

  it("creates a role, reads the statistics chart, and fits a phone's width", async () => {
    const { slug, owner } = await tenantWithOwner();
    await registerUser(slug, "Ada");
    const w = watch(await browser().newPage());
    await signIn(w, slug, owner.email, owner.password);
    const page = w.page;

    await page.getByRole("link", { name: "Roles and keys" }).click();
    await page.getByRole("heading", { name: "Roles and API keys" }).waitFor();
    await page.getByLabel(/^Name \(2–32/).fill("helpdesk");
    await page.getByLabel("Description").fill(HOSTILE);
    await page.getByLabel(/^Permissions, one per line \(resource/).fill("reports:read\nusers:read");
    await page.getByRole("button", { name: "Create role" }).click();
    await page.getByRole("status").filter({ hasText: "Role helpdesk created." }).waitFor();
    const row = page.getByRole("row").filter({ hasText: "helpdesk" });
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.innerText()).toContain(HOSTILE);
    await screenshot(page, "console-roles");
    const roles = await api<{ items: { name: string; permissions: string[] }[] }>("/v1/admin/roles", {
      tenant: slug,
      token: await ownerToken(slug, owner),
    });
    expect(roles.body.items.find((r) => r.name === "helpdesk")?.permissions).toEqual(["reports:read", "users:read"]);

    await page.getByRole("link", { name: "Statistics" }).click();
    await page.getByRole("heading", { name: "Statistics" }).waitFor();
    const chart = page.locator("figure[data-figure='Registrations'] canvas");
    await chart.waitFor();
    const box = await chart.boundingBox();
    expect(box?.width ?? 0).toBeGreaterThan(100);
    expect(box?.height ?? 0).toBeGreaterThan(50);
    await screenshot(page, "console-stats");
    // The chart's numbers, as its table and its label give them, are the API's.
    const stats = await api<{ series: { period: string; registrations: number }[] }>("/v1/admin/stats", {
      tenant: slug,
      token: await ownerToken(slug, owner),
    });
    const label = (await chart.getAttribute("aria-label")) ?? "";
    expect(label).toBe(`Registrations: ${stats.body.series.map((p) => p.registrations).join(", ")}`);

    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole("link", { name: "Users" }).click();
    await page.getByRole("heading", { name: "Users", level: 1 }).waitFor();
    await page.getByRole("link", { name: "Ada" }).waitFor();
    expect(await fitsWidth(page)).toBe(true);
    await screenshot(page, "console-users-phone");
    expect(w.incidents).toEqual([]);
  });

  it("resolves a report from the queue: the reported post is removed", async () => {
    const { slug, owner } = await tenantWithOwner();
    const author = await registerUser(slug, "Author");
    const reporter = await registerUser(slug, "Reporter");
    const post = await api<{ id: string }>("/v1/posts", {
      tenant: slug,
      token: author.tokens.accessToken,
      json: { title: "Buy now", body: HOSTILE },
    });
    expect(post.status, JSON.stringify(post.body)).toBe(201);
    const report = await api<{ id: string }>(`/v1/posts/${post.body.id}/reports`, {
      tenant: slug,
      token: reporter.tokens.accessToken,
      json: { reason: "spam", detail: HOSTILE },
    });
    expect(report.status, JSON.stringify(report.body)).toBe(201);

    const w = watch(await browser().newPage());
    await signIn(w, slug, owner.email, owner.password);
    const page = w.page;
    await page.getByRole("link", { name: "Reports" }).click();
    await page.getByRole("heading", { name: "Reports" }).waitFor();
    const row = page.getByRole("row").filter({ hasText: post.body.id });
    await row.waitFor();
    expect(await row.innerText()).toContain(HOSTILE);
    await screenshot(page, "console-reports");
    await row.getByRole("button", { name: /^Remove report/ }).click();
    await page.getByRole("status").filter({ hasText: "was removed" }).waitFor();
    await page.getByText("No open reports.").waitFor();
    const gone = await api(`/v1/posts/${post.body.id}`, { tenant: slug, token: reporter.tokens.accessToken });
    expect(gone.status).toBe(404);
    expect(w.incidents).toEqual([]);
  });

  it("edits the tenant's config: a schema error shows under its field and saves nothing; a good change saves", async () => {
    const { slug, owner } = await tenantWithOwner();
    const w = watch(await browser().newPage());
    await signIn(w, slug, owner.email, owner.password);
    const page = w.page;
    await page.getByRole("link", { name: "Config" }).click();
    await page.getByRole("heading", { name: "Config", level: 1 }).waitFor();
    // The operator's sections are shown, not editable.
    expect(await page.getByLabel("limits", { exact: true }).count()).toBe(0);
    const content = page.getByLabel("content", { exact: true });
    const value = JSON.parse(await content.inputValue()) as { maxPostChars: number };
    await content.fill(JSON.stringify({ ...value, maxPostChars: "many" }));
    await page.getByRole("button", { name: "Save config" }).click();
    await page.locator("#err-content").filter({ hasText: "maxPostChars" }).waitFor();
    expect(await content.getAttribute("aria-invalid")).toBe("true");
    await screenshot(page, "console-config-error");
    const token = await ownerToken(slug, owner);
    const unchanged = await api<{ config: { content: { maxPostChars: number } } }>("/v1/admin/config", {
      tenant: slug,
      token,
    });
    expect(unchanged.body.config.content.maxPostChars).toBe(value.maxPostChars);

    await content.fill(JSON.stringify({ ...value, maxPostChars: 1234 }));
    await page.getByRole("button", { name: "Save config" }).click();
    await page.getByRole("status").filter({ hasText: "Saved: content." }).waitFor();
    expect(await content.getAttribute("aria-invalid")).toBeNull();
    const saved = await api<{ config: { content: { maxPostChars: number } } }>("/v1/admin/config", {
      tenant: slug,
      token,
    });
    expect(saved.body.config.content.maxPostChars).toBe(1234);
    expect(w.incidents).toEqual([]);
  });

  it("honours two-factor: the owner's password asks for the code, and the code signs them in", async () => {
    const { slug, owner } = await tenantWithOwner();
    const token = await ownerToken(slug, owner);
    const setup = await api<{ secret: string }>("/v1/auth/mfa/totp/setup", { tenant: slug, token, method: "POST" });
    expect(setup.status).toBe(200);
    // The previous step's code enables it, so the sign-in below has a fresh one.
    const enable = await api("/v1/auth/mfa/totp/enable", {
      tenant: slug,
      token,
      json: { password: owner.password, code: await previousStepCode(setup.body.secret) },
    });
    expect(enable.status, JSON.stringify(enable.body)).toBe(200);

    const w = watch(await browser().newPage());
    const { page } = w;
    await page.goto(`${stack().url}/console/`);
    await page.getByLabel("Tenant", { exact: true }).fill(slug);
    await page.getByLabel("Email or username").fill(owner.email);
    await page.getByLabel("Password", { exact: true }).fill(owner.password);
    await page.getByRole("button", { name: "Sign in" }).first().click();
    const code = page.getByLabel(/^Code from your authenticator app/);
    await code.waitFor();
    await code.fill("000000");
    await page.getByRole("button", { name: "Verify" }).click();
    await page.getByRole("status").filter({ hasText: "invalid_mfa_code" }).waitFor();
    await code.fill(await generate({ secret: setup.body.secret }));
    await page.getByRole("button", { name: "Verify" }).click();
    await page.getByRole("heading", { name: "Users", level: 1 }).waitFor();
    expect(w.incidents).toEqual([]);
  });

  it("a wrong password shows the server's problem inline; the keyboard reaches every control", async () => {
    const { slug, owner } = await tenantWithOwner();
    const w = watch(await browser().newPage());
    const { page } = w;
    await page.goto(`${stack().url}/console/`);
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("name"))).toBe("tenant");
    await page.keyboard.type(slug);
    await page.keyboard.press("Tab");
    await page.keyboard.type(owner.email);
    await page.keyboard.press("Tab");
    await page.keyboard.type("not the password");
    await page.keyboard.press("Enter");
    await page.getByRole("status").filter({ hasText: "invalid_credentials" }).waitFor();
    await screenshot(page, "console-signin-error");
    expect(w.incidents).toEqual([]);
  });

  it("the operator signs in with the platform token and sees tenants, names escaped", async () => {
    const { slug } = await tenantWithOwner(HOSTILE);
    const w = watch(await browser().newPage());
    const { page } = w;
    await page.goto(`${stack().url}/console/`);
    await page.getByLabel("Platform admin token").fill("wrong");
    await page.getByRole("button", { name: "Sign in" }).nth(1).click();
    await page.getByRole("status").filter({ hasText: "refused" }).waitFor();
    await page.getByLabel("Platform admin token").fill(stack().adminToken);
    await page.getByRole("button", { name: "Sign in" }).nth(1).click();
    await page.getByRole("heading", { name: "Tenants" }).waitFor();
    const row = page.getByRole("row").filter({ hasText: slug });
    await row.waitFor();
    expect(await row.innerText()).toContain(HOSTILE);
    expect(await page.locator("main img").count()).toBe(0);
    await screenshot(page, "console-operator-tenants");
    await page.getByRole("link", { name: "Queues" }).click();
    await page.getByRole("heading", { name: "Queues" }).waitFor();
    await screenshot(page, "console-operator-queues");
    expect(w.incidents).toEqual([]);
  });
});

async function ownerToken(slug: string, owner: { email: string; password: string }): Promise<string> {
  const res = await api<{ accessToken: string }>("/v1/auth/login", {
    tenant: slug,
    json: { identifier: owner.email, password: owner.password },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.accessToken;
}

/** The code of the step before the current one (waits out a step about to end). */
async function previousStepCode(secret: string): Promise<string> {
  const left = 30_000 - (Date.now() % 30_000);
  if (left < 3_000) await new Promise((r) => setTimeout(r, left + 50));
  return generate({ secret, epoch: Math.floor((Date.now() - 30_000) / 1000) });
}

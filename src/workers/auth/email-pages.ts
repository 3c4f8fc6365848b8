import { createRoute, z } from "@hono/zod-openapi";
import { createRouter, problemResponses } from "../gateway/http";

/**
 * Minimal pages for emailed links when the tenant names no app of its own (`signIn.appUrl`
 * unset): links then open `<tenant API origin>/v1/auth/pages/<page>?token=…`, so a newcomer can
 * follow a reset link locally, and a tenant can go live before its app handles the links. Each
 * page is static HTML; one script (same origin, the only one the page's CSP allows) reads the
 * token from the address and calls the matching API route. The tenant comes from the host, as
 * for every tenant route; the token never leaves the page but to this API (no referrer).
 */
export const emailPageRoutes = createRouter();

const PAGES = {
  "verify-email": { title: "Verify your email address", action: "Verify", password: false },
  "reset-password": { title: "Choose a new password", action: "Set the password", password: true },
  "confirm-email-change": { title: "Confirm your new email address", action: "Confirm", password: false },
  "undo-email-change": { title: "Undo the change of email address", action: "Undo the change", password: false },
} as const;
type Page = keyof typeof PAGES;

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'unsafe-inline'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

function pageHtml(page: Page): string {
  const p = PAGES[page];
  const password = p.password
    ? `<label>New password <input id="password" type="password" autocomplete="new-password" minlength="8" required></label>`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${p.title}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}
label,input,button{display:block;width:100%;margin:.5rem 0}input,button{padding:.6rem;font:inherit}
button{background:#2563eb;color:#fff;border:0;border-radius:.3rem;cursor:pointer}#out{min-height:1.5em}</style>
</head><body><main data-page="${page}"><h1>${p.title}</h1>
<form id="form">${password}<button type="submit">${p.action}</button></form>
<p id="out" role="status"></p></main>
<script src="app.js"></script></body></html>`;
}

// The page's script: no framework, no inline code (the CSP forbids it).
const SCRIPT = `"use strict";
const page = document.querySelector("main").dataset.page;
const token = new URLSearchParams(location.search).get("token") || "";
history.replaceState(null, "", location.pathname);
const routes = {
  "verify-email": "../../auth/email/verify",
  "reset-password": "../../auth/password/reset/confirm",
  "confirm-email-change": "../../auth/email/change/confirm",
  "undo-email-change": "../../auth/email/change/undo",
};
const out = document.getElementById("out");
document.getElementById("form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = { token };
  const pw = document.getElementById("password");
  if (pw) body.newPassword = pw.value;
  out.textContent = "…";
  try {
    const res = await fetch(new URL(routes[page], location.href), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = res.status === 204 ? {} : await res.json();
    out.textContent = res.ok ? "Done. You can close this page." : answer.detail || "That did not work.";
  } catch {
    out.textContent = "The service could not be reached; try again.";
  }
});
`;

emailPageRoutes.openapi(
  createRoute({
    method: "get",
    path: "/auth/pages/app.js",
    operationId: "getEmailPagesScript",
    security: [],
    tags: ["Auth"],
    summary: "The script of the emailed-link pages",
    responses: { 200: { description: "JavaScript", content: { "text/javascript": { schema: z.string() } } } },
  }),
  (c) =>
    c.body(SCRIPT, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "public, max-age=300",
    }),
);

emailPageRoutes.openapi(
  createRoute({
    method: "get",
    path: "/auth/pages/{page}",
    operationId: "getEmailPage",
    security: [],
    tags: ["Auth"],
    summary: "A page for an emailed link (verify, reset, confirm or undo a change) when signIn.appUrl is unset",
    request: {
      params: z.object({ page: z.enum(Object.keys(PAGES) as [Page, ...Page[]]) }),
      query: z.object({ token: z.string().max(200).optional() }),
    },
    responses: {
      200: { description: "The page", content: { "text/html": { schema: z.string() } } },
      ...problemResponses(),
    },
  }),
  (c) =>
    c.body(pageHtml(c.req.valid("param").page), 200, {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": CSP,
    }),
);

import { HTML_CSP } from "./middleware/security-headers";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "./context";
import { documentProblems, type ProblemDocument } from "./problem-docs";

const config = (origin: string) => ({
  openapi: "3.1.0",
  info: {
    title: "Canopy API",
    version: "0.1.0",
    license: { name: "Proprietary", url: "https://canopy.dev/terms" },
    description:
      "Multi-tenant backend for B2B2C apps. Tenant routes are addressed by host (<slug>.<base domain>) or the X-Tenant header; errors are RFC 9457 problem+json with a stable `code` (docs/errors.md); each operation lists the codes it can answer by status.",
  },
  servers: [{ url: origin }],
});

/**
 * /openapi.json (OpenAPI 3.1 from the zod schemas, with every operation's problem codes: see
 * problem-docs.ts) and /docs (an API reference page). The document is built on the first request
 * (all routes are registered by then) and kept per origin for the isolate's life.
 */
export function mountDocs(app: OpenAPIHono<AppEnv>): void {
  const built = new Map<string, string>();
  app.get("/openapi.json", (c) => {
    const origin = new URL(c.req.url).origin;
    let doc = built.get(origin);
    if (doc === undefined) {
      doc = JSON.stringify(documentProblems(app.getOpenAPI31Document(config(origin)) as ProblemDocument));
      if (built.size >= 8) built.clear();
      built.set(origin, doc);
    }
    return c.body(doc, 200, { "content-type": "application/json" });
  });
  // The reference UI (Scalar) is loaded by the browser from its CDN; the API itself has no
  // dependency on it, and /openapi.json is the source of truth for client generators.
  app.get("/docs", (c) =>
    c.html(
      `<!doctype html>
<html><head><meta charset="utf-8"><title>Canopy API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><script id="api-reference" data-url="/openapi.json"></script>
<script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference"></script></body></html>`,
      200,
      { "content-security-policy": HTML_CSP },
    ),
  );
}

import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../context";

/** /openapi.json (OpenAPI 3.1 from the zod schemas) and /docs (an API reference page). */
export function mountDocs(app: OpenAPIHono<AppEnv>): void {
  app.doc31("/openapi.json", (c) => ({
    openapi: "3.1.0",
    info: {
      title: "Canopy API",
      version: "0.1.0",
      license: { name: "Proprietary", url: "https://canopy.dev/terms" },
      description:
        "Multi-tenant backend for B2B2C apps. Tenant routes are addressed by host (<slug>.<base domain>) or the X-Tenant header; errors are RFC 9457 problem+json.",
    },
    servers: [{ url: new URL(c.req.url).origin }],
  }));
  // The reference UI (Scalar) is loaded by the browser from its CDN; the API itself has no
  // dependency on it, and /openapi.json is the source of truth for client generators.
  app.get("/docs", (c) =>
    c.html(`<!doctype html>
<html><head><meta charset="utf-8"><title>Canopy API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><script id="api-reference" data-url="/openapi.json"></script>
<script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference"></script></body></html>`),
  );
}

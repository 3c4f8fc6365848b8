import { OpenAPIHono } from "@hono/zod-openapi";
import { installSelfDispatch } from "../../lib/self-dispatch";
import { requireAdmin } from "./middleware/platform-admin";
import type { AppEnv } from "./context";
import { validationError } from "./http";
import { mountDocs } from "./docs";
import { notFoundHandler, onError } from "./errors";
import { healthRoutes } from "./health";
import { bodyLimit } from "./middleware/body-limit";
import { observe } from "./middleware/observe";
import { tenantScope } from "./middleware/tenant";
import { audited, registerOperations } from "./middleware/audit";
import { platformDb } from "../../db/client";
import { services } from "./services";

/**
 * Assembles the Worker's HTTP app. Order matters: the request id and trace come first so every
 * log line and error carries them; tenant resolution precedes CORS (origins are per tenant) and
 * the body limit (limits are per tenant).
 */
export function createApp(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error, result.target);
    },
  });

  // A bare route outside the chain: the baseline the benchmark compares the chain against.
  app.get("/__bare", (c) => c.text("ok"));

  app.use("*", observe());
  app.route("/", healthRoutes);
  mountDocs(app);

  // One admin check for every platform route, whichever service's router serves it.
  app.use(
    "/admin/v1/*",
    bodyLimit(),
    requireAdmin(),
    audited("platform", (c) => platformDb(c.env)),
  );
  app.use("/v1/*", tenantScope());
  app.use("/.well-known/*", tenantScope());
  // Platform routes first, then the tenant API, then paths of their own; in list order within each.
  for (const base of ["/admin/v1", "/v1", "/"] as const) {
    for (const s of services)
      for (const m of s.routes ?? []) {
        if (m.base !== base) continue;
        app.route(base, m.router);
        registerOperations(base, routesOf(m.router));
      }
  }

  app.onError(onError);
  app.notFound(notFoundHandler(app));
  installSelfDispatch((req, env, ctx) => app.fetch(req, env, ctx));
  return app;
}

/** A router's OpenAPI operations: method, path and id. */
const routesOf = (router: OpenAPIHono<AppEnv>) =>
  router.openAPIRegistry.definitions.flatMap((d) => (d.type === "route" ? [d.route] : []));

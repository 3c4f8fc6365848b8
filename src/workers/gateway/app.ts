import { OpenAPIHono } from "@hono/zod-openapi";
import { adminEventRoutes } from "../admin/events-routes";
import { adminRoutes } from "../admin/routes";
import { requireAdmin } from "../admin/auth";
import { accountRoutes } from "../auth/account-routes";
import { jwksRoutes } from "../auth/jwks";
import { mfaRoutes } from "../auth/mfa-routes";
import { authRoutes } from "../auth/routes";
import type { AppEnv } from "./context";
import { fileRoutes } from "../files/routes";
import { validationError } from "./http";
import { adminKeyRoutes } from "../tenant-admin/keys";
import { adminRoleRoutes } from "../tenant-admin/roles";
import { adminUserRoutes } from "../tenant-admin/users";
import { blockRoutes } from "../friends/blocks";
import { friendRoutes } from "../friends/friends";
import { friendRequestRoutes } from "../friends/requests";
import { conversationRoutes } from "../realtime/conversations";
import { realtimeRoutes } from "../realtime/connect";
import { messageRoutes } from "../realtime/messages";
import { messageArchiveRoutes } from "../messages/routes";
import { announcementRoutes } from "../notifications/announce-routes";
import { notificationRoutes } from "../notifications/routes";
import { statsRoutes } from "../statistics/routes";
import { usageRoutes } from "../statistics/platform-routes";
import { tenantRoutes } from "../tenant/routes";
import { followRoutes } from "../users/follows";
import { userRoutes } from "../users/routes";
import { webhookRoutes } from "../webhooks/routes";
import { mountDocs } from "./docs";
import { notFoundHandler, onError } from "./errors";
import { healthRoutes } from "./health";
import { bodyLimit } from "./middleware/body-limit";
import { observe } from "./middleware/observe";
import { tenantScope } from "./middleware/tenant";

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
  app.use("/admin/v1/*", bodyLimit(), requireAdmin());
  app.route("/admin/v1", adminRoutes);
  app.route("/admin/v1", adminEventRoutes);
  app.route("/admin/v1", usageRoutes);

  app.use("/v1/*", tenantScope());
  app.route("/v1", tenantRoutes);
  app.route("/v1", authRoutes);
  app.route("/v1", accountRoutes);
  app.route("/v1", mfaRoutes);
  app.route("/v1", adminUserRoutes);
  app.route("/v1", adminRoleRoutes);
  app.route("/v1", adminKeyRoutes);
  app.route("/v1", userRoutes);
  app.route("/v1", followRoutes);
  app.route("/v1", friendRequestRoutes);
  app.route("/v1", friendRoutes);
  app.route("/v1", blockRoutes);
  app.route("/v1", fileRoutes);
  app.route("/v1", realtimeRoutes);
  app.route("/v1", conversationRoutes);
  app.route("/v1", messageRoutes);
  app.route("/v1", messageArchiveRoutes);
  app.route("/v1", notificationRoutes);
  app.route("/v1", announcementRoutes);
  app.route("/v1", statsRoutes);
  app.route("/v1", webhookRoutes);

  app.use("/.well-known/*", tenantScope());
  app.route("/", jwksRoutes);

  app.onError(onError);
  app.notFound(notFoundHandler(app));
  return app;
}

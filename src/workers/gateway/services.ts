import { installQueueRoutes } from "../../lib/events";
import { installConfigParts } from "../../lib/tenant-config";
import { adminModule } from "../admin/module";
import { aiModule } from "../ai/module";
import { authModule } from "../auth/module";
import { commerceModule } from "../commerce/module";
import { contentModule } from "../content/module";
import { filesModule } from "../files/module";
import { friendsModule } from "../friends/module";
import { messagesModule } from "../messages/module";
import { notificationsModule } from "../notifications/module";
import { opsModule } from "../ops/module";
import { privacyModule } from "../privacy/module";
import { realtimeModule } from "../realtime/module";
import { statisticsModule } from "../statistics/module";
import { tenantModule } from "../tenant/module";
import { tenantAdminModule } from "../tenant-admin/module";
import { usersModule } from "../users/module";
import { webhooksModule } from "../webhooks/module";
import { webModule } from "../web/module";
import type { ServiceModule } from "./module";

/**
 * Every service of the Worker, one line each. The HTTP app (mounts, in this order), the queue
 * dispatcher (consumers by queue, run in this order, and which queues each event type goes to), the minute cron
 * (sweeps), the tenant config (each service's part) and the fuzz suite's id kinds are all built
 * from this list; a new service is its folder, a line here, and its migration.
 */
export const services: readonly ServiceModule[] = [
  adminModule,
  tenantModule,
  authModule,
  tenantAdminModule,
  // Before users: GET /v1/users/suggested must match before GET /v1/users/{id}.
  friendsModule,
  usersModule,
  contentModule,
  commerceModule,
  aiModule,
  filesModule,
  realtimeModule,
  notificationsModule,
  privacyModule,
  statisticsModule,
  // After statistics: a message.created the archive refuses as poison has been counted already.
  messagesModule,
  webhooksModule,
  opsModule,
  webModule,
];

// The parts of the list that code below the Worker needs (Durable Objects parse the tenant
// config and publish events too), handed down once when the Worker's modules load.
installConfigParts(services.flatMap((s) => (s.config ? [s.config] : [])));
installQueueRoutes(services.flatMap((s) => s.consumers ?? []).map(({ queue, types }) => ({ queue, types })));

import type { OpenAPIHono } from "@hono/zod-openapi";
import type { CloudEvent, QueueName } from "../../lib/events";
import type { ConfigPart } from "../../lib/tenant-config";
import type { TenantSweep } from "../events/cron";
import type { Consumer } from "../events/queues";
import type { AppEnv } from "./context";

/**
 * Where a router is mounted: `/v1` (a tenant's API, behind tenant resolution), `/admin/v1` (the
 * platform API, behind the admin check) or `/` (paths of their own, such as `/.well-known/`).
 */
export interface Mount {
  base: "/v1" | "/admin/v1" | "/";
  router: OpenAPIHono<AppEnv>;
}

/** A queue consumer and the event types it takes (which is how events are routed to its queue). */
export interface QueueConsumer {
  queue: QueueName;
  types: readonly string[] | "all";
  consume: Consumer;
}

/** A handler of a platform event (about a tenant as a whole): it runs without tenant resolution. */
export interface PlatformEventHandler {
  queue: QueueName;
  type: string;
  handle: (event: CloudEvent, env: Env) => Promise<void>;
}

/**
 * How the fuzz suite finds real objects of a kind of id this service owns: the path parameters
 * and body fields that hold one (`userId`, `memberIds`), and the collection segment before a bare
 * `{id}` (`/roles/{id}`).
 */
export interface FuzzIdKind {
  params?: readonly string[];
  segments?: readonly string[];
  /**
   * The values are names of possibly empty sets (a tag), not ids: an unknown value is a valid
   * request that finds nothing, not an id of nothing.
   */
  names?: boolean;
}

/**
 * One service, as the Worker is assembled from it (src/workers/gateway/services.ts lists them):
 * its routers, queue consumers, cron sweeps, the events it emits, its part of the tenant config
 * and the kinds of id it owns. Everything is optional but the name.
 */
export interface ServiceModule {
  /** The service's name: its folder under src/workers/. */
  name: string;
  routes?: readonly Mount[];
  consumers?: readonly QueueConsumer[];
  platformEvents?: readonly PlatformEventHandler[];
  /** Per-tenant work of the minute cron. */
  sweeps?: readonly TenantSweep[];
  /** The event types the service (its routes, consumers and Durable Objects) emits. */
  emits?: readonly string[];
  config?: ConfigPart;
  fuzzIds?: Readonly<Record<string, FuzzIdKind>>;
}

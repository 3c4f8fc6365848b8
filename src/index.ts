import { createApp } from "./workers/gateway/app";
import { handleQueue, runScheduled } from "./workers/gateway/background";

export { Conversation } from "./durable/conversation";
export { MetricsHub } from "./durable/metrics-hub";
export { Quota } from "./durable/quota";
export { RateLimiter } from "./durable/rate-limiter";
export { UserHub } from "./durable/user-hub";
export { RealtimeGateway } from "./durable/realtime";

const app = createApp();

/** The Worker: HTTP through the Hono app, queue batches to their consumers, cron housekeeping. */
export default {
  fetch: app.fetch,
  async queue(batch, env, ctx) {
    await handleQueue(batch, env, (p) => ctx.waitUntil(p));
  },
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(runScheduled(env));
  },
} satisfies ExportedHandler<Env>;

import { createApp } from "./workers/gateway/app";
import { handleQueue, runScheduled } from "./workers/gateway/background";

export { Conversation } from "./durable/conversation";
export { Quota } from "./durable/quota";
export { RateLimiter } from "./durable/rate-limiter";
export { UserHub } from "./durable/user-hub";

const app = createApp();

/** The Worker: HTTP through the Hono app, queue batches to their consumers, cron housekeeping. */
export default {
  fetch: app.fetch,
  async queue(batch, env, _ctx) {
    await handleQueue(batch, env);
  },
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(runScheduled(env));
  },
} satisfies ExportedHandler<Env>;

import { createApp } from "./workers/gateway/app";
import { runCron } from "./workers/cron";
import { dispatchBatch } from "./workers/queues";

export { Conversation } from "./durable/conversation";
export { Quota } from "./durable/quota";
export { RateLimiter } from "./durable/rate-limiter";
export { UserHub } from "./durable/user-hub";

const app = createApp();

/** The Worker: HTTP through the Hono app, queue batches to their consumers, cron housekeeping. */
export default {
  fetch: app.fetch,
  async queue(batch, env, _ctx) {
    // Consumers register here as the notification, statistics and AI capabilities land.
    await dispatchBatch(batch, env, {});
  },
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(runCron(env));
  },
} satisfies ExportedHandler<Env>;

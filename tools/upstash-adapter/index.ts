/**
 * Local stand-in for Upstash Redis: a throwaway redis-server behind the REST adapter, so
 * @upstash/redis and @upstash/ratelimit run unchanged (their Lua scripts really execute).
 */
import { randomBytes } from "node:crypto";
import { startRedisServer, type RedisServerOptions } from "./redis-server.js";
import { startUpstashAdapter } from "./server.js";

export { startRedisServer, REDIS_MISSING, type RedisServer, type RedisServerOptions } from "./redis-server.js";
export { startUpstashAdapter, type UpstashAdapter, type UpstashAdapterOptions } from "./server.js";

/** A running redis-server + adapter pair. */
export interface LocalUpstash {
  /** What `UPSTASH_REDIS_REST_URL` would hold. */
  url: string;
  /** What `UPSTASH_REDIS_REST_TOKEN` would hold. */
  token: string;
  redisPort: number;
  /** Stop the adapter, then redis-server. */
  close(): Promise<void>;
}

/** Start redis-server on a free port and the adapter in front of it (on `port`, default a free one). */
export async function startLocalUpstash(
  options: { token?: string; port?: number; redis?: RedisServerOptions } = {},
): Promise<LocalUpstash> {
  const token = options.token ?? randomBytes(24).toString("base64url");
  const redis = await startRedisServer(options.redis);
  try {
    const adapter = await startUpstashAdapter({ redisPort: redis.port, token, port: options.port ?? 0 });
    return {
      url: adapter.url,
      token,
      redisPort: redis.port,
      close: async () => {
        await adapter.close();
        await redis.stop();
      },
    };
  } catch (err) {
    await redis.stop();
    throw err;
  }
}

/**
 * CLI: `npx tsx tools/upstash-adapter/main.ts [--port 8079] [--token T | env UPSTASH_REDIS_REST_TOKEN]`.
 * Starts a throwaway redis-server and the Upstash REST adapter in front of it, prints the
 * `UPSTASH_REDIS_REST_URL`/`UPSTASH_REDIS_REST_TOKEN` pair to use, and stops both on SIGINT/SIGTERM.
 */
import { parseArgs } from "node:util";
import { startLocalUpstash } from "./index.js";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { port: { type: "string", default: "8079" }, token: { type: "string" } },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${values.port}`);
  const token = values.token ?? process.env.UPSTASH_REDIS_REST_TOKEN;
  const upstash = await startLocalUpstash({ port, ...(token ? { token } : {}) });
  process.stdout.write(`UPSTASH_REDIS_REST_URL=${upstash.url}\nUPSTASH_REDIS_REST_TOKEN=${upstash.token}\n`);
  const stop = () => {
    upstash.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`upstash adapter: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

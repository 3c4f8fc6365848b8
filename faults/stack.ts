/**
 * What the fault harness runs, all on 127.0.0.1, in a scratch directory:
 *
 *   load (Node) ──HTTP/WS──▶ workerd (the built bundle) ──Hrana──▶ FaultProxy ──▶ libSQL server
 *                               │  queue sends ▲ batches, cron           (data dir on disk)
 *                               ▼              │
 *                            QueueBroker ──▶ trigger Worker      webhooks ──▶ WebhookReceiver
 *
 * Every libSQL URL the Worker holds goes through the proxy: the platform DB URL is rewritten to
 * the proxy's port and LIBSQL_ADMIN_URL is the proxy, so the local server answers tenant
 * databases' URLs with the proxy's `Host` (server.ts derives them from it) and the platform DB
 * stores those. The harness's own set-up and verification talk to the server directly.
 * workerd keeps Durable Objects on a disk directory and the libSQL server its files in a data
 * directory, both reused by every restart.
 */
import { randomBytes } from "node:crypto";
import { startMailCatcher } from "../tools/mail-catcher/server";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bootstrapPlatform } from "../tools/platform-bootstrap";
import { freePort } from "../bench/processes";
import { tsx } from "../bench/servers";
import { QueueBroker } from "./broker";
import { FaultProxy } from "./proxy";
import { queueSettings } from "./queue-settings";
import { WebhookReceiver } from "./receiver";
import { Restartable } from "./restartable";
import { faultWorkerdConfig } from "./workerd-config";

export interface FaultStack {
  libsql: Restartable;
  /** The libSQL server, reached directly (set-up and verification only). */
  libsqlOrigin: string;
  libsqlSecret: string;
  libsqlDataDir: string;
  proxy: FaultProxy;
  broker: QueueBroker;
  receiver: WebhookReceiver;
  receiverUrl: string;
  workerd: Restartable;
  workerOrigin: string;
  doDir: string;
  adminToken: string;
  /** Runs the Worker's minute cron once; false when workerd did not answer. */
  runCron(): Promise<boolean>;
  /** Stops everything this stack started (servers in this process included). */
  close(): Promise<void>;
}

export interface StackOptions {
  /** Retry delays of the queue broker are capped at this (see broker.ts). */
  maxRetryDelayMs: number;
}

export async function startFaultStack(
  root: string,
  scratch: string,
  bundle: string,
  o: StackOptions,
): Promise<FaultStack> {
  const libsqlSecret = randomBytes(24).toString("base64url");
  const libsqlPort = await freePort();
  const libsqlDataDir = join(scratch, "libsql");
  const libsql = new Restartable("libsql", scratch, {
    ...tsx(
      root,
      "tools/libsql-server/main.ts",
      "--port",
      String(libsqlPort),
      "--host",
      "127.0.0.1",
      "--data",
      libsqlDataDir,
    ),
    cwd: root,
    env: { ...process.env, LIBSQL_SERVER_SECRET: libsqlSecret },
    readyLine: /libsql server listening on (http:\/\/\S+)/,
    timeoutMs: 30_000,
  });
  const libsqlOrigin = await libsql.start();
  const platform = await bootstrapPlatform(libsqlOrigin, libsqlSecret);

  const proxy = new FaultProxy("127.0.0.1", libsqlPort);
  const proxyOrigin = `http://127.0.0.1:${await proxy.listen()}`;
  const platformViaProxy = new URL(new URL(platform.url).pathname, proxyOrigin).href;

  const triggerPort = await freePort();
  const broker = new QueueBroker(
    queueSettings(join(root, "wrangler.toml")),
    `http://127.0.0.1:${triggerPort}/queue`,
    o.maxRetryDelayMs,
  );
  const queuePorts = await broker.listen();
  const receiver = new WebhookReceiver();
  const receiverUrl = await receiver.listen();
  // Sign-ups mail a verification: the local catcher stands where the mail provider would.
  const mail = await startMailCatcher({ port: 0, token: randomBytes(16).toString("base64url") });

  const workerdDir = join(scratch, "workerd");
  const doDir = join(workerdDir, "do");
  mkdirSync(doDir, { recursive: true });
  copyFileSync(bundle, join(workerdDir, "index.js"));
  const adminToken = randomBytes(24).toString("base64url");
  const workerPort = await freePort();
  writeFileSync(
    join(workerdDir, "config.capnp"),
    faultWorkerdConfig({
      wranglerToml: join(root, "wrangler.toml"),
      modulePath: "index.js",
      doDiskPath: doDir,
      port: workerPort,
      queuePorts,
      triggerPort,
      text: {
        ADMIN_TOKEN: adminToken,
        PLATFORM_DB_URL: platformViaProxy,
        PLATFORM_DB_TOKEN: platform.token,
        DB_ENCRYPTION_KEY: randomBytes(32).toString("base64url"),
        LIBSQL_ADMIN_URL: proxyOrigin,
        LIBSQL_ADMIN_TOKEN: libsqlSecret,
        DB_PROVISIONER: "local",
        BASE_DOMAIN: "localhost",
        // "development" lets webhooks point at the loopback receiver (webhooks/url.ts).
        ENVIRONMENT: "development",
        MAX_BODY_BYTES: "1048576",
        TENANT_CACHE_TTL_MS: "5000",
        // The load gives each sign-in its own address (the auth routes' per-address limit):
        // the Worker reads it from the header the edge would set (src/workers/gateway/middleware/rate-limit.ts).
        CLIENT_IP_HEADER: "cf-connecting-ip",
        TENANT_ORIGIN: "http://{slug}.localhost:8787",
        MAIL_TRANSPORT: "resend",
        MAIL_FROM: "Canopy <no-reply@localhost>",
        MAIL_API_URL: mail.url,
        MAIL_API_KEY: mail.token,
      },
    }),
  );
  const workerOrigin = `http://127.0.0.1:${workerPort}`;
  const workerd = new Restartable("workerd", scratch, {
    command: join(root, "node_modules/.bin/workerd"),
    args: ["serve", "--experimental", join(workerdDir, "config.capnp")],
    cwd: workerdDir,
    readyUrl: `${workerOrigin}/__bare`,
    timeoutMs: 30_000,
  });
  await workerd.start();

  return {
    libsql,
    libsqlOrigin,
    libsqlSecret,
    libsqlDataDir,
    proxy,
    broker,
    receiver,
    receiverUrl,
    workerd,
    workerOrigin,
    doDir,
    adminToken,
    async runCron() {
      try {
        const res = await fetch(`http://127.0.0.1:${triggerPort}/scheduled`, {
          method: "POST",
          signal: AbortSignal.timeout(60_000),
        });
        await res.arrayBuffer();
        return res.ok;
      } catch {
        return false;
      }
    },
    async close() {
      await workerd.stop();
      await libsql.stop();
      await Promise.all([proxy.close(), broker.close(), receiver.close(), mail.close()]);
    },
  };
}

/**
 * The servers every benchmark starts, on loopback, in a scratch directory: the local libSQL
 * server (fresh data dir) with the platform DB, and the built bundle under raw workerd, optionally
 * with a second Worker service (the realtime benchmark's bare Durable Object) in the same process.
 * Shared by the HTTP benchmark (stack.ts) and the realtime one (realtime/stack.ts).
 */
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { bootstrapPlatform } from "../tools/platform-bootstrap";
import { ensureWebApps, freePort, runToCompletion, start, type Managed } from "./processes";
import { compatibilityDateOf, compatibilityFlagsOf, workerdConfig, type ExtraWorker } from "./workerd-config";

export interface Servers {
  libsqlOrigin: string;
  libsqlLog: string;
  /** The libSQL server's admin secret. */
  secret: string;
  workerOrigin: string;
  workerdLog: string;
  adminToken: string;
  /** The running workerd (replaced by `restartWorkerd`). */
  workerd(): Managed;
  /** Stops workerd and starts it again on the same config, ports and storage (a fresh process). */
  restartWorkerd(): Promise<void>;
  /** Origin of the extra Worker service, when one was configured. */
  extraOrigin?: string;
}

export interface ExtraService {
  /** The ES module's source; written next to the config. */
  source: string;
  /** The module's file name, e.g. "bare.js". */
  moduleName: string;
  durableObjects: ExtraWorker["durableObjects"];
  /** Bind the queue producers to a sink (workerd-config.ts) instead of leaving them unbound. */
  queueSink?: boolean;
}

export function progress(msg: string): void {
  process.stderr.write(`bench: ${msg}\n`);
}

/** Children run on the same Node as the benchmark (tsx's shebang would pick whatever `node` is on PATH). */
export function tsx(root: string, script: string, ...args: string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: [join(root, "node_modules/tsx/dist/cli.mjs"), script, ...args] };
}

/**
 * Builds a benchmark's own Worker (`entry`: the production Worker plus its bench routes) into the
 * scratch directory, never into dist/; answers the bundle's path.
 */
export function buildBenchBundle(root: string, scratch: string, entry: string): string {
  const out = join(scratch, "bench-bundle");
  progress(`building the bench bundle (${entry}) into the scratch directory`);
  ensureWebApps(root, join(scratch, "bench-build.log"));
  runToCompletion(
    join(root, "node_modules/.bin/wrangler"),
    ["deploy", entry, "--dry-run", "--outdir", out],
    root,
    join(scratch, "bench-build.log"),
    300_000,
  );
  return join(out, basename(entry).replace(/\.m?ts$/, ".js"));
}

/**
 * Starts `script`, a floor serving as `<name> floor` (floor-server.ts), with its log in the
 * scratch directory; resolves with its origin once it listens.
 */
export async function startFloor(root: string, scratch: string, name: string, script: string, ...args: string[]) {
  const { proc, ready } = await start({
    name: `${name} floor`,
    ...tsx(root, script, ...args),
    cwd: root,
    logFile: join(scratch, `${name}-floor.log`),
    readyLine: new RegExp(`${name} floor listening on (http:\\/\\/\\S+)`),
    timeoutMs: 60_000,
  });
  return { proc, origin: ready };
}

/**
 * Creates a tenant through the admin API (`POST /admin/v1/tenants` with `tenant` as the body);
 * answers its database (namespace) name.
 */
export async function createTenant(
  origin: string,
  adminToken: string,
  tenant: { slug: string; name: string; config: unknown; owner?: unknown },
): Promise<string> {
  const out = (await postJson(`${origin}/admin/v1/tenants`, adminToken, tenant, 201)) as {
    database?: { name?: string };
    tenant?: { database?: { name?: string } };
  };
  const name = out.database?.name ?? out.tenant?.database?.name;
  if (!name) throw new Error(`creating ${tenant.slug}: no database name in ${JSON.stringify(out).slice(0, 300)}`);
  return name;
}

/** POSTs JSON with a bearer token; throws unless the answer has the `expected` status. */
export async function postJson(
  url: string,
  token: string,
  body: unknown,
  expected: number,
  method = "POST",
): Promise<unknown> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  if (res.status !== expected)
    throw new Error(`${method} ${url}: expected ${expected}, got ${res.status} ${text.slice(0, 500)}`);
  return JSON.parse(text) as unknown;
}

/**
 * Starts the libSQL server and workerd serving `bundle` (and `extra`, if given, on a port of its
 * own); resolves once both answer. `options.queueSink` binds the queue producers to the sink
 * without an extra service (for benchmarks whose writes publish outbox events after the response).
 */
export async function startServers(
  root: string,
  scratch: string,
  bundle: string,
  extra?: ExtraService,
  options: {
    queueSink?: boolean;
    blobDisk?: boolean;
    text?: Record<string, string>;
    durableObjects?: { binding: string; className: string }[];
  } = {},
): Promise<Servers> {
  const secret = randomBytes(24).toString("base64url");
  progress("starting the local libSQL server");
  const libsqlPort = await freePort();
  const libsqlLog = join(scratch, "libsql-server.log");
  const libsql = await start({
    name: "libsql server",
    ...tsx(
      root,
      "tools/libsql-server/main.ts",
      "--port",
      String(libsqlPort),
      "--host",
      "127.0.0.1",
      "--data",
      join(scratch, "libsql"),
    ),
    cwd: root,
    env: { ...process.env, LIBSQL_SERVER_SECRET: secret },
    logFile: libsqlLog,
    readyLine: /libsql server listening on (http:\/\/\S+)/,
    timeoutMs: 30_000,
  });
  const libsqlOrigin = libsql.ready;
  const platform = await bootstrapPlatform(libsqlOrigin, secret);

  progress(`starting workerd with ${bundle}${extra ? ` and ${extra.moduleName}` : ""}`);
  const workerdDir = join(scratch, "workerd");
  mkdirSync(join(workerdDir, "do"), { recursive: true });
  if (options.blobDisk) mkdirSync(join(workerdDir, "blobs"), { recursive: true });
  copyFileSync(bundle, join(workerdDir, "index.js"));
  if (extra) writeFileSync(join(workerdDir, extra.moduleName), extra.source);
  const adminToken = randomBytes(24).toString("base64url");
  const workerPort = await freePort();
  const extraPort = extra ? await freePort() : undefined;
  writeFileSync(
    join(workerdDir, "config.capnp"),
    workerdConfig({
      modulePath: "index.js",
      doDiskPath: join(workerdDir, "do"),
      port: workerPort,
      compatibilityDate: compatibilityDateOf(join(root, "wrangler.toml")),
      compatibilityFlags: compatibilityFlagsOf(join(root, "wrangler.toml")),
      text: {
        ADMIN_TOKEN: adminToken,
        PLATFORM_DB_URL: platform.url,
        PLATFORM_DB_TOKEN: platform.token,
        DB_ENCRYPTION_KEY: randomBytes(32).toString("base64url"),
        LIBSQL_ADMIN_URL: libsqlOrigin,
        LIBSQL_ADMIN_TOKEN: secret,
        DB_PROVISIONER: "local",
        BASE_DOMAIN: "localhost",
        ENVIRONMENT: "benchmark",
        MAX_BODY_BYTES: "1048576",
        TENANT_CACHE_TTL_MS: "5000",
        // The load generators stand where the edge does and set the client address themselves.
        CLIENT_IP_HEADER: "cf-connecting-ip",
        ...options.text,
      },
      ...(extra && extraPort !== undefined
        ? {
            extra: { modulePath: extra.moduleName, port: extraPort, durableObjects: extra.durableObjects },
            queueSink: extra.queueSink ?? false,
          }
        : options.queueSink
          ? { queueSink: true }
          : {}),
      ...(options.blobDisk ? { blobDiskPath: join(workerdDir, "blobs") } : {}),
      ...(options.durableObjects ? { durableObjects: options.durableObjects } : {}),
    }),
  );
  const workerOrigin = `http://127.0.0.1:${workerPort}`;
  const workerdLog = join(scratch, "workerd.log");
  const launch = async (): Promise<Managed> => {
    const { proc } = await start({
      name: "workerd",
      command: join(root, "node_modules/.bin/workerd"),
      // CANOPY_BENCH_INSPECTOR=127.0.0.1:9229 opens V8's inspector (CPU profiles, docs/performance.md).
      args: [
        "serve",
        join(workerdDir, "config.capnp"),
        ...(process.env.CANOPY_BENCH_INSPECTOR ? [`--inspector-addr=${process.env.CANOPY_BENCH_INSPECTOR}`] : []),
      ],
      cwd: workerdDir,
      logFile: workerdLog,
      readyUrl: `${workerOrigin}/__bare`,
      timeoutMs: 30_000,
    });
    return proc;
  };
  let workerd = await launch();
  return {
    libsqlOrigin,
    libsqlLog,
    secret,
    workerOrigin,
    workerdLog,
    adminToken,
    workerd: () => workerd,
    async restartWorkerd() {
      await workerd.stop();
      workerd = await launch();
    },
    ...(extraPort !== undefined ? { extraOrigin: `http://127.0.0.1:${extraPort}` } : {}),
  };
}

/**
 * Brings up what the benchmark measures, all on loopback, in a scratch directory:
 * the local libSQL server (fresh data dir) with the platform DB, the built bundle under raw
 * workerd, the `bench` tenant and its users, a 100k-row `items` namespace, and the in-process
 * `libsql` floor.
 */
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bootstrapPlatform } from "../tools/platform-bootstrap";
import { authFlows, type AuthFlows } from "./auth-flows";
import { registerUsers } from "./auth-users";
import { ITEM_ROWS, ITEMS_SCHEMA, itemsFill, pointSelectBody, randomItemId } from "./items";
import type { Target } from "./measure";
import { freePort, start } from "./processes";
import { compatibilityDateOf, workerdConfig } from "./workerd-config";

export const TENANT = "bench";
const ITEMS_NAMESPACE = "bench-items";
/** The largest API rate limit a tenant may have (no 429s under load), and tokens that outlive the run. */
const TENANT_CONFIG = { limits: { requestsPerMinute: 1_000_000 }, session: { accessTokenTtlSeconds: 86_400 } };
/** Concurrent login loops (one user each) and refresh chains (one user and session each). */
export const LOGIN_LOOPS = 8;
export const REFRESH_CHAINS = 16;

export interface Stack {
  workerOrigin: string;
  libsqlOrigin: string;
  floorOrigin: string;
  workerdLog: string;
  libsqlLog: string;
  flows: AuthFlows;
  targets: {
    bare: Target;
    chain: Target;
    authed: Target;
    authedOneUser: Target;
    tenantRead: Target;
    floor: Target;
    libsqlServer: Target;
  };
}

function progress(msg: string): void {
  process.stderr.write(`bench: ${msg}\n`);
}

async function postJson(url: string, token: string, body: unknown, expected: number): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  if (res.status !== expected) throw new Error(`POST ${url}: expected ${expected}, got ${res.status} ${text.slice(0, 500)}`);
  return JSON.parse(text) as unknown;
}

/** Creates the items namespace on the local server and fills it through Hrana. */
async function seedItems(libsqlOrigin: string, secret: string): Promise<{ url: string; token: string }> {
  const created = (await postJson(`${libsqlOrigin}/v1/namespaces/${ITEMS_NAMESPACE}/create`, secret, {}, 200)) as { url: string; token: string };
  const stmt = (sql: string) => ({ type: "execute", stmt: { sql, want_rows: false } });
  const out = (await postJson(
    new URL("v2/pipeline", created.url).href,
    created.token,
    { baton: null, requests: [stmt(ITEMS_SCHEMA), stmt(itemsFill(ITEM_ROWS)), { type: "close" }] },
    200,
  )) as { results: { type: string; error?: unknown }[] };
  const failed = out.results.find((r) => r.type !== "ok");
  if (failed) throw new Error(`seeding items failed: ${JSON.stringify(failed)}`);
  return created;
}

/**
 * `bundle`: the ES module workerd serves (normally dist/index.js); `connections`: autocannon's
 * connection count, which is also the number of users behind the authenticated target.
 */
export async function startStack(root: string, scratch: string, bundle: string, connections: number): Promise<Stack> {
  // Children run on the same Node as the benchmark (tsx's shebang would pick whatever `node` is on PATH).
  const tsx = (script: string, ...args: string[]) => ({
    command: process.execPath,
    args: [join(root, "node_modules/tsx/dist/cli.mjs"), script, ...args],
  });
  const secret = randomBytes(24).toString("base64url");

  progress("starting the local libSQL server");
  const libsqlPort = await freePort();
  const libsqlLog = join(scratch, "libsql-server.log");
  const libsql = await start({
    name: "libsql server",
    ...tsx("tools/libsql-server/main.ts", "--port", String(libsqlPort), "--host", "127.0.0.1", "--data", join(scratch, "libsql")),
    cwd: root,
    env: { ...process.env, LIBSQL_SERVER_SECRET: secret },
    logFile: libsqlLog,
    readyLine: /libsql server listening on (http:\/\/\S+)/,
    timeoutMs: 30_000,
  });
  const libsqlOrigin = libsql.ready;
  const platform = await bootstrapPlatform(libsqlOrigin, secret);

  progress(`starting workerd with ${bundle}`);
  const workerdDir = join(scratch, "workerd");
  mkdirSync(join(workerdDir, "do"), { recursive: true });
  copyFileSync(bundle, join(workerdDir, "index.js"));
  const adminToken = randomBytes(24).toString("base64url");
  const workerPort = await freePort();
  writeFileSync(
    join(workerdDir, "config.capnp"),
    workerdConfig({
      modulePath: "index.js",
      doDiskPath: join(workerdDir, "do"),
      port: workerPort,
      compatibilityDate: compatibilityDateOf(join(root, "wrangler.toml")),
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
      },
    }),
  );
  const workerOrigin = `http://127.0.0.1:${workerPort}`;
  const workerdLog = join(scratch, "workerd.log");
  await start({
    name: "workerd",
    command: join(root, "node_modules/.bin/workerd"),
    args: ["serve", join(workerdDir, "config.capnp")],
    cwd: workerdDir,
    logFile: workerdLog,
    readyUrl: `${workerOrigin}/__bare`,
    timeoutMs: 30_000,
  });

  progress(`creating tenant '${TENANT}' through the admin API`);
  await postJson(`${workerOrigin}/admin/v1/tenants`, adminToken, { slug: TENANT, name: "Bench", config: TENANT_CONFIG }, 201);
  const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i + 1}`);
  progress(`registering ${connections + LOGIN_LOOPS + REFRESH_CHAINS} users`);
  const users = await registerUsers(workerOrigin, TENANT, ["benchuser", ...names("benchuser", connections).slice(1)]);
  const loginUsers = await registerUsers(workerOrigin, TENANT, names("benchlogin", LOGIN_LOOPS));
  const chains = await registerUsers(workerOrigin, TENANT, names("benchrefresh", REFRESH_CHAINS));

  progress(`filling ${ITEM_ROWS} items on the libSQL server and in the floor's file`);
  const items = await seedItems(libsqlOrigin, secret);
  mkdirSync(join(scratch, "floor"), { recursive: true });
  const floor = await start({
    name: "libsql floor",
    ...tsx("bench/libsql-floor.ts", "--db", join(scratch, "floor", "items.db"), "--rows", String(ITEM_ROWS)),
    cwd: root,
    logFile: join(scratch, "libsql-floor.log"),
    readyLine: /libsql floor listening on (http:\/\/\S+)/,
    timeoutMs: 60_000,
  });

  const tenantHeaders = { "x-tenant": TENANT };
  const select = {
    method: "POST" as const,
    body: () => pointSelectBody(randomItemId()),
    expect: { status: 200, bodyIncludes: '"item-' },
  };
  const authed: Target = {
    name: "authed", origin: workerOrigin, method: "GET", path: "/v1/auth/whoami",
    headers: { ...tenantHeaders, authorization: `Bearer ${users[0]!.accessToken}` }, expect: { status: 200, bodyIncludes: '"kind":"user"' },
  };
  const itemsUrl = new URL("v2/pipeline", items.url);
  // Both sides get the same request bytes; the floor ignores the token.
  const selectHeaders = { "content-type": "application/json", authorization: `Bearer ${items.token}` };
  return {
    workerOrigin,
    libsqlOrigin,
    floorOrigin: floor.ready,
    workerdLog,
    libsqlLog,
    flows: authFlows(workerOrigin, TENANT, loginUsers.map((u) => u.username), chains),
    targets: {
      bare: { name: "bare", origin: workerOrigin, method: "GET", path: "/__bare", headers: {}, expect: { status: 200, bodyIncludes: "ok" } },
      chain: { name: "chain", origin: workerOrigin, method: "GET", path: "/v1/time", headers: tenantHeaders, expect: { status: 200, bodyIncludes: '"now"' } },
      authed: { ...authed, connectionHeaders: users.map((u) => ({ authorization: `Bearer ${u.accessToken}` })) },
      authedOneUser: { ...authed, name: "authed, one user" },
      tenantRead: {
        name: "tenant read", origin: workerOrigin, method: "GET", path: "/v1/tenant", headers: tenantHeaders,
        expect: { status: 200, bodyIncludes: `"slug":"${TENANT}"` },
      },
      floor: { name: "libsql floor", origin: floor.ready, path: itemsUrl.pathname, headers: selectHeaders, ...select },
      libsqlServer: {
        name: "libsql server", origin: itemsUrl.origin, path: itemsUrl.pathname,
        headers: selectHeaders, ...select,
      },
    },
  };
}

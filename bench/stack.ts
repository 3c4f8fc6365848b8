/**
 * Brings up what the benchmark measures, all on loopback, in a scratch directory:
 * the local libSQL server (fresh data dir) with the platform DB, the built bundle under raw
 * workerd (servers.ts), the `bench` tenant and its users, a 100k-row `items` namespace, and the in-process
 * `libsql` floor.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { authFlows, pbkdf2Steps, type AuthFlows, type Step } from "./auth-flows";
import { registerUsers } from "./auth-users";
import { ITEM_ROWS, ITEMS_SCHEMA, itemsFill, pointSelectBody, randomItemId } from "./items";
import type { Target } from "./measure";
import { createTenant, postJson, progress, startFloor, startServers } from "./servers";

export const TENANT = "bench";
const ITEMS_NAMESPACE = "bench-items";
/** The largest API rate limit a tenant may have (no 429s under load), and tokens that outlive the run. */
export const TENANT_CONFIG = { limits: { requestsPerMinute: 1_000_000 }, session: { accessTokenTtlSeconds: 86_400 } };
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
  /** The bench bundle's floors (bench/floors/entry.mts), when it is served. */
  floors?: Floors;
}

/** The floors the goal rows divide by (bench/floors/entry.mts). */
export interface Floors {
  /** A bare route making one empty Durable Object RPC. */
  rpc: Target;
  /** A bare route sending `GET /v1/tenant`'s Hrana pipeline to the same database with plain fetch. */
  hrana: Target;
  /** One PBKDF2 hash at the configured cost per request, in as many loops as the login flow. */
  pbkdf2: Step[];
}

/** The Durable Object class the floors' bundle adds. */
export const FLOOR_OBJECTS = [{ binding: "BENCH_FLOOR", className: "BenchFloor" }];

/** Creates the items namespace on the local server and fills it through Hrana. */
async function seedItems(libsqlOrigin: string, secret: string): Promise<{ url: string; token: string }> {
  const created = (await postJson(`${libsqlOrigin}/v1/namespaces/${ITEMS_NAMESPACE}/create`, secret, {}, 200)) as {
    url: string;
    token: string;
  };
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
export async function startStack(
  root: string,
  scratch: string,
  bundle: string,
  connections: number,
  withFloors = false,
): Promise<Stack> {
  // The queue producers are bound to a sink: unbound, every hub's outbox would fail to publish and
  // retry from its alarm for the whole run, taking CPU from what is measured.
  const { libsqlOrigin, libsqlLog, secret, workerOrigin, workerdLog, adminToken } = await startServers(
    root,
    scratch,
    bundle,
    undefined,
    { queueSink: true, ...(withFloors ? { durableObjects: FLOOR_OBJECTS } : {}) },
  );

  progress(`creating tenant '${TENANT}' through the admin API`);
  const database = await createTenant(workerOrigin, adminToken, { slug: TENANT, name: "Bench", config: TENANT_CONFIG });
  const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i + 1}`);
  progress(`registering ${connections + LOGIN_LOOPS + REFRESH_CHAINS} users`);
  const users = await registerUsers(workerOrigin, TENANT, ["benchuser", ...names("benchuser", connections).slice(1)]);
  const loginUsers = await registerUsers(workerOrigin, TENANT, names("benchlogin", LOGIN_LOOPS));
  const chains = await registerUsers(workerOrigin, TENANT, names("benchrefresh", REFRESH_CHAINS));

  progress(`filling ${ITEM_ROWS} items on the libSQL server and in the floor's file`);
  const items = await seedItems(libsqlOrigin, secret);
  mkdirSync(join(scratch, "floor"), { recursive: true });
  const floor = await startFloor(
    root,
    scratch,
    "libsql",
    "bench/libsql-floor.ts",
    "--db",
    join(scratch, "floor", "items.db"),
    "--rows",
    String(ITEM_ROWS),
  );

  const tenantHeaders = { "x-tenant": TENANT };
  const select = {
    method: "POST" as const,
    body: () => pointSelectBody(randomItemId()),
    expect: { status: 200, bodyIncludes: '"item-' },
  };
  const authed: Target = {
    name: "authed",
    origin: workerOrigin,
    method: "GET",
    path: "/v1/auth/whoami",
    headers: { ...tenantHeaders, authorization: `Bearer ${users[0]!.accessToken}` },
    expect: { status: 200, bodyIncludes: '"kind":"user"' },
  };
  const itemsUrl = new URL("v2/pipeline", items.url);
  const floors = withFloors ? await startFloors(workerOrigin, libsqlOrigin, secret, database) : undefined;
  // Both sides get the same request bytes; the floor ignores the token.
  const selectHeaders = { "content-type": "application/json", authorization: `Bearer ${items.token}` };
  return {
    workerOrigin,
    libsqlOrigin,
    floorOrigin: floor.origin,
    workerdLog,
    libsqlLog,
    flows: authFlows(
      workerOrigin,
      TENANT,
      loginUsers.map((u) => u.username),
      chains,
    ),
    targets: {
      bare: {
        name: "bare",
        origin: workerOrigin,
        method: "GET",
        path: "/__bare",
        headers: {},
        expect: { status: 200, bodyIncludes: "ok" },
      },
      chain: {
        name: "chain",
        origin: workerOrigin,
        method: "GET",
        path: "/v1/time",
        headers: tenantHeaders,
        expect: { status: 200, bodyIncludes: '"now"' },
      },
      authed: { ...authed, connectionHeaders: users.map((u) => ({ authorization: `Bearer ${u.accessToken}` })) },
      authedOneUser: { ...authed, name: "authed, one user" },
      tenantRead: {
        name: "tenant read",
        origin: workerOrigin,
        method: "GET",
        path: "/v1/tenant",
        headers: tenantHeaders,
        expect: { status: 200, bodyIncludes: `"slug":"${TENANT}"` },
      },
      floor: { name: "libsql floor", origin: floor.origin, path: itemsUrl.pathname, headers: selectHeaders, ...select },
      libsqlServer: {
        name: "libsql server",
        origin: itemsUrl.origin,
        path: itemsUrl.pathname,
        headers: selectHeaders,
        ...select,
      },
    },
    ...(floors ? { floors } : {}),
  };
}

/**
 * The floors' targets, once the Hrana floor has recorded the tenant read's pipeline against the
 * tenant's database (its URL and token from the libSQL server's admin API, as provisioning got them).
 */
async function startFloors(workerOrigin: string, libsqlOrigin: string, secret: string, database: string) {
  const res = await fetch(`${libsqlOrigin}/v1/namespaces/${encodeURIComponent(database)}`, {
    headers: { authorization: `Bearer ${secret}` },
  });
  if (!res.ok) throw new Error(`looking up ${database}: ${res.status} ${await res.text()}`);
  const { url, token } = (await res.json()) as { url: string; token: string };
  const recorded = (await postJson(`${workerOrigin}/__floor/hrana`, "", { url, token }, 200)) as { body: string };
  progress(`the Hrana floor replays ${recorded.body}`);
  const floor = (name: string, path: string, bodyIncludes: string): Target => ({
    name,
    origin: workerOrigin,
    method: "GET",
    path,
    headers: {},
    expect: { status: 200, bodyIncludes },
  });
  return {
    rpc: floor("rpc floor", "/__floor/rpc", "ok"),
    hrana: floor("hrana floor", "/__floor/hrana", '"results"'),
    pbkdf2: pbkdf2Steps(workerOrigin, LOGIN_LOOPS),
  } satisfies Floors;
}

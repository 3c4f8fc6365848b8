/**
 * Fuzzing every operation of the Worker's own OpenAPI document with hostile requests.
 *
 * The operations are read from GET /openapi.json when the file loads, so a new route gets its own
 * test here without anything being written. For each, fast-check generates valid-looking
 * baselines from the parameters and body schema (ids from real fixtures) and mutates them: wrong
 * types, missing and extra fields, huge and deep values, NULs, control characters, lone
 * surrogates and invalid UTF-8, malformed JSON, wrong content types, path and query garbage,
 * forged cursors and signatures, ids of nothing, of another tenant and of another user. Cases are
 * sent as nobody, forged and foreign credentials, and callers that signed in for real: a member,
 * a user the owner gave the `admin` role, the tenant's owner, an API key with every permission
 * and one with `users:read` only (the owner created both), and the platform admin. Every answer
 * must be below 500, every error problem+json, and no answer a 2xx where the input is invalid or
 * the caller unauthorised: a member on a tenant-admin route, a key on a route that acts for a
 * user, the narrow key on a route needing another permission (tests/worker/fuzz/oracle.ts,
 * identities.ts, build.ts). Socket frames are fuzzed in tests/worker/fuzz-socket.test.ts.
 *
 * Each operation gets one case per applicable mutation class and per identity (the sweep), then
 * random cases: CI_RUNS with a fixed seed in `npm test` (tests/worker/fuzz/settings.ts), FUZZ_RUNS
 * (400) with a random seed, printed up front, in `npm run fuzz`.
 * Replay a failure: FUZZ_SEED=<seed> npx vitest run --project worker tests/worker/fuzz.test.ts -t '<operation>'.
 *
 * Fixture safety: cases must not destroy what the oracle relies on. Tenant-admin routes only get
 * victim users (never the member, the admin or the owner) and never the seeded `member` or
 * `admin` role; the identities' API keys are not in the `apiKeys` pool (a revoke gets the
 * fixture key, never theirs); platform routes only get throwaway tenants' slugs; an identity a
 * case signed out (logout, its own session deleted) signs in again on its next 401, and an
 * identity key refused with 401 is created again (tests/worker/fuzz/pools.ts, world.ts, run.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UPGRADE_ONLY } from "./fuzz/build";
import {
  isPlatformRoute,
  opKey,
  operationsOf,
  resolverOf,
  typesOf,
  type OpenApiDoc,
  type Operation,
} from "./fuzz/openapi";
import { describeFailure, grouped, type Observation } from "./fuzz/report";
import { declaredKinds, isNumericParam, kindOf, type Kind } from "./fuzz/pools";
import { fuzzOperation } from "./fuzz/run";
import { fuzzSettings } from "./fuzz/settings";
import { buildWorld, replenishTenants, type World } from "./fuzz/world";
import { call } from "./helpers";

const settings = fuzzSettings();
const doc = await (await call("/openapi.json")).json<OpenApiDoc>();
const resolve = resolverOf(doc);

/**
 * The WebSocket upgrade is a plain Hono route, not in the document; it is fuzzed as plain HTTP
 * (no upgrade), where it must never answer 2xx.
 */
const undocumented: Operation[] = [
  {
    method: "GET",
    path: "/v1/realtime",
    summary: "WebSocket upgrade (ticket or bearer)",
    security: ["bearer"],
    parameters: [{ name: "ticket", in: "query", required: false, schema: { type: "string", maxLength: 4096 } }],
    responses: ["101", "400", "401"],
  },
];
// Deletes run after everything else, purges last, so the fixtures they remove serve the other
// operations first (document order would delete the webhook before its deliveries are read).
const rank = (op: Operation) => (op.path.endsWith("/purge") ? 2 : op.method === "DELETE" ? 1 : 0);
const operations = [...operationsOf(doc), ...undocumented.filter((u) => UPGRADE_ONLY.has(opKey(u)))].sort(
  (a, b) => rank(a) - rank(b),
);

// Generous: a slow case is a few hundred ms (tenant provisioning, 1 MiB bodies); a hang still fails.
const timeout = 60_000 + settings.runs * 2_000;
const totals = {
  operations: 0,
  requests: 0,
  failures: 0,
  observations: [] as Observation[],
  passed: {} as Record<string, number>,
};

describe(`fuzz: hostile requests to every operation of /openapi.json (seed ${settings.seed}, ${settings.runs} cases each)`, () => {
  let world: World;

  beforeAll(async () => {
    if (settings.random) console.log(`fuzz: random seed ${settings.seed} (replay with FUZZ_SEED=${settings.seed})`);
    world = await buildWorld();
  }, 120_000);

  afterAll(() => {
    const soft = totals.observations.map((o) => `  ${o.status} ${o.op}: ${o.soft} (${o.label})`);
    console.log(`fuzz: ${totals.requests} requests, ${totals.failures} failures, seed ${settings.seed}`);
    console.log(
      `fuzz: 2xx answers by identity: ${Object.entries(totals.passed)
        .map(([who, n]) => `${who} ${n}`)
        .join(", ")}`,
    );
    if (soft.length) console.log(`fuzz: accepted with 2xx (allowed, noted):\n${[...new Set(soft)].join("\n")}`);
  });

  it("reads the operations from the Worker's own document", () => {
    expect(operations.length).toBeGreaterThan(50);
    expect(operations.some((o) => o.body)).toBe(true);
  });

  it("knows every kind of id the services declare, and the kind of every path parameter", () => {
    // A service that owns objects declares their kind of id in its module (fuzzIds); the world
    // must create some (so baselines reach its handlers), and every id in a path must map to one.
    const declared = declaredKinds();
    expect(new Set(declared).size, "a kind declared by two services").toBe(declared.length);
    expect([...declared].sort()).toEqual(Object.keys(world.local).sort());
    for (const kind of declared) expect(world.local[kind as Kind]?.length, `fixtures of ${kind}`).toBeGreaterThan(0);
    const unmapped = operations.flatMap((op) =>
      op.parameters
        .filter(
          // Numbers (`/parts/{n}`) and closed sets (`/auth/pages/{page}`) are not ids.
          (p) =>
            p.in === "path" &&
            !isNumericParam(typesOf(resolve(p.schema ?? {}))?.[0]) &&
            !resolve(p.schema ?? {}).enum &&
            !kindOf(op.path, p.name),
        )
        .map((p) => `${opKey(op)} {${p.name}}`),
    );
    expect(unmapped, "path parameters no module's fuzzIds names").toEqual([]);
  });

  for (const op of operations) {
    it(
      `${opKey(op)}: no 5xx, errors as problem+json, no 2xx for invalid input or unauthorised callers`,
      async () => {
        if (isPlatformRoute(op) && op.path.includes("{slug}")) await replenishTenants(world);
        const r = await fuzzOperation(op, world, resolve, settings);
        totals.operations++;
        totals.requests += r.requests;
        totals.failures += r.failures.length;
        totals.observations.push(...r.observations);
        for (const [who, n] of Object.entries(r.passed)) totals.passed[who] = (totals.passed[who] ?? 0) + n;
        if (r.failures.length > 0) {
          const replay = `FUZZ_SEED=${settings.seed} FUZZ_RUNS=${settings.runs} npx vitest run --project worker tests/worker/fuzz.test.ts -t '${opKey(op)}'`;
          const groups = grouped(r.failures);
          throw new Error(
            `${r.failures.length} of ${r.requests} answers broke the properties (seed ${settings.seed}; answers ${JSON.stringify(r.statuses)}):\n\n` +
              groups.map((g) => describeFailure(g.first, g.count, replay)).join("\n\n"),
          );
        }
        // No failures must mean cases were sent: at least one of the sweep and every random one.
        expect(r.requests, "requests sent for this operation").toBeGreaterThan(settings.runs);
      },
      timeout,
    );
  }

  // Last in the file, so it sees every operation's count (a `-t` replay of one operation skips it).
  it("sent every operation its cases", () => {
    expect(totals.operations).toBe(operations.length);
    expect(totals.requests).toBeGreaterThanOrEqual(operations.length * (settings.runs + 1));
  });
});

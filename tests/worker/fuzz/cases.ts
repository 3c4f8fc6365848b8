import fc from "fast-check";
import { pick } from "./hostile";
import { identityWeights, IDENTITIES, isActor, type IdentityName } from "./identities";
import { declaresForm, declaresJson, isPlatformRoute, needsPermission, typesOf, type Operation } from "./openapi";
import { mutationClasses, type Mutation } from "./mutations";
import { isNumericParam, kindOf, poolFor, type Item, type Pools } from "./pools";
import { valueArb, type ValueContext } from "./values";

/** A valid-looking request for an operation, before mutation. */
export interface Baseline {
  path: Record<string, string>;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** JSON value (JSON routes), text fields (form routes), bytes (raw routes), or undefined. */
  body: unknown;
}

/** One generated case: who sends which mutation of which baseline. */
export interface Case {
  identity: IdentityName;
  forgery: number;
  base: Baseline;
  mutation: Mutation;
}

const n = fc.nat({ max: 1_000_000 });

/** The callers that hold permissions, in the order the sweep takes turns with them (users first: keys only pass on tenant-admin routes). */
const ADMINS: readonly IdentityName[] = ["owner", "admin", "apiKey"];

/** Random cases of an operation: any identity (weighted), any applicable mutation. */
export function caseArb(op: Operation, pools: Pools, ctx: ValueContext): fc.Arbitrary<Case> {
  const weights = identityWeights(op);
  const identity = fc.oneof(
    ...IDENTITIES.filter((i) => weights[i] > 0).map((i) => ({ arbitrary: fc.constant(i), weight: weights[i] })),
  );
  const mutation = fc.oneof(...mutationClasses(op));
  return identity.chain((who) =>
    fc.record({ identity: fc.constant(who), forgery: n, base: baselineArb(op, pools, ctx, who), mutation }),
  );
}

/**
 * One generator per mutation class, sent by a caller likely to get past authentication (the
 * platform admin on /admin/v1; owner, admin and broad API key in turn on tenant-admin routes;
 * the member every other class elsewhere, owner and admin in between; nobody on public routes),
 * then a baseline from every other identity the operation gets: every run tries every class and
 * every caller on every operation.
 */
export function sweepArbs(
  op: Operation,
  pools: Pools,
  ctx: ValueContext,
): { kind: string; arbitrary: fc.Arbitrary<Case> }[] {
  const classes = mutationClasses(op).map((m, i) => {
    const who: IdentityName = isPlatformRoute(op)
      ? "platform"
      : op.security.length === 0
        ? "anonymous"
        : needsPermission(op)
          ? pick(ADMINS, i)
          : i % 2
            ? pick(ADMINS.slice(0, 2), i >> 1)
            : "member";
    return {
      kind: m.kind,
      arbitrary: fc.record({
        identity: fc.constant(who),
        forgery: n,
        base: baselineArb(op, pools, ctx, who),
        mutation: m.arbitrary,
      }),
    };
  });
  const weights = identityWeights(op);
  const callers = IDENTITIES.filter((who) => weights[who] > 0).map((who) => ({
    kind: `as ${who}`,
    arbitrary: fc.record({
      identity: fc.constant(who),
      forgery: n,
      base: baselineArb(op, pools, ctx, who),
      mutation: fc.constant<Mutation>({ kind: "baseline" }),
    }),
  }));
  return [...classes, ...callers];
}

/** Items the caller may act on come first: a baseline should reach the handler, not a 404. */
function forCaller(items: Item[], who: IdentityName): Item[] {
  if (!isActor(who)) return items;
  const mine = items.filter((i) => !i.owners || i.owners.includes(who));
  return mine.length ? mine : items;
}

function baselineArb(op: Operation, pools: Pools, ctx: ValueContext, who: IdentityName): fc.Arbitrary<Baseline> {
  const pathModel: Record<string, fc.Arbitrary<string>> = {};
  const queryModel: Record<string, fc.Arbitrary<string>> = {};
  const headerModel: Record<string, fc.Arbitrary<string>> = {};
  const requiredQuery: string[] = [];
  const requiredHeaders: string[] = [];
  for (const p of op.parameters) {
    const s = ctx.resolve(p.schema);
    if (p.in === "path") {
      const kind = kindOf(op.path, p.name);
      const ids = forCaller(poolFor(pools, op.path, kind), who).map((i) => i.id);
      const values = isNumericParam(typesOf(s)?.[0])
        ? valueArb(s, ctx, p.name).map(String)
        : ids.length
          ? fc.constantFrom(...ids)
          : ctx.ids(kind);
      // A parameter documented as taking `me` gets it too.
      pathModel[p.name] = /`me`/.test(s.description ?? "") ? fc.oneof(values, fc.constant("me")) : values;
    } else if (p.in === "query") {
      // Baselines carry no cursor: every cursor the fuzzer could make is forged (a mutation).
      if (p.name === "cursor") continue;
      queryModel[p.name] = valueArb(s, ctx, p.name).map((v) => (typeof v === "string" ? v : JSON.stringify(v)));
      if (p.required) requiredQuery.push(p.name);
    } else if (p.in === "header") {
      headerModel[p.name] = valueArb(s, ctx, p.name).map(String);
      if (p.required) requiredHeaders.push(p.name);
    }
  }
  const base = fc.record({
    path: fc.record(pathModel),
    query: fc.record(queryModel, { requiredKeys: requiredQuery }),
    headers: fc.record(headerModel, { requiredKeys: requiredHeaders }),
    body: bodyArb(op, ctx),
  });
  const signed = signedBaseline(op, pools);
  return signed ? fc.oneof({ arbitrary: signed, weight: 3 }, { arbitrary: base, weight: 1 }) : base;
}

/**
 * A route with a `sig` query parameter serves signed URLs (files' content): its baselines are the
 * fixtures' real signed URLs, so a mutation of id, exp or sig is a forgery.
 */
function signedBaseline(op: Operation, pools: Pools): fc.Arbitrary<Baseline> | undefined {
  const idParam = op.parameters.find((p) => p.in === "path");
  const signed = (pools.files ?? []).filter((f) => f.signed);
  if (!idParam || !op.parameters.some((p) => p.in === "query" && p.name === "sig") || signed.length === 0)
    return undefined;
  return fc.constantFrom(...signed).map((f) => ({
    path: { [idParam.name]: f.id },
    query: { exp: f.signed!.exp, sig: f.signed!.sig },
    headers: {},
    body: undefined,
  }));
}

function bodyArb(op: Operation, ctx: ValueContext): fc.Arbitrary<unknown> {
  if (!op.body) return fc.constant(undefined);
  if (declaresJson(op)) return valueArb(op.body.schema, ctx);
  if (declaresForm(op)) {
    // Text fields from the schema; binary fields become the fixtures' PNG when the request is built.
    const s = ctx.resolve(op.body.schema);
    const model: Record<string, fc.Arbitrary<string>> = {};
    for (const [k, prop] of Object.entries(s.properties ?? {})) {
      model[k] = ctx.resolve(prop).format === "binary" ? fc.constant("<file>") : valueArb(prop, ctx, k).map(String);
    }
    return fc.record(model, { requiredKeys: s.required ?? [] });
  }
  return fc.uint8Array({ minLength: 1, maxLength: 64 });
}

import { env } from "cloudflare:test";
import { buildBody } from "./build-body";
import type { Case } from "./cases";
import type { Mutation } from "./mutations";
import { forgedCursor, HEADER_GARBAGE, PATH_GARBAGE, pick, QUERY_GARBAGE, RAW_QUERY, TENANT_GARBAGE } from "./hostile";
import { addressFor, authorizationFor, authReason, isActor, type IdentityName } from "./identities";
import {
  isIdempotentDelete,
  needsPermission,
  needsTenant,
  pathPattern,
  typesOf,
  type Operation,
  type Parameter,
  type Resolve,
} from "./openapi";
import { foreignId, isNumericParam, kindOf, namesSets, notTheCallers, poolFor, unknownId, type Item } from "./pools";
import { paramViolation } from "./schema-check";
import type { World } from "./world";

/** A request ready to send, with the reasons a 2xx answer to it would be a bug. */
export interface Plan {
  identity: IdentityName;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: Uint8Array | FormData;
  /** Why a 2xx would be wrong; empty when any status below 500 may do. */
  reasons: string[];
  /** Hostile input a server may legitimately accept (control characters, lone surrogates). */
  soft?: string;
  /** The mutation and where it struck, for the report. */
  label: string;
}

type Origin = "local" | "alias" | "numeric" | "unknown" | "foreign" | "garbage";
interface PathValue {
  value: string;
  raw?: boolean;
  origin: Origin;
  item?: Item;
}

/** Routes that only answer a WebSocket upgrade: a plain HTTP request can never succeed there. */
export const UPGRADE_ONLY = new Set(["GET /v1/realtime"]);

/** Builds the request of one case. `seq` numbers the requests of the run (client addresses). */
export function planOf(op: Operation, c: Case, world: World, resolve: Resolve, seq: number): Plan {
  const m = c.mutation;
  const reasons: string[] = [];
  const pathParams = op.parameters.filter((p) => p.in === "path");
  const queryParams = op.parameters.filter((p) => p.in === "query");
  const headerParams = op.parameters.filter((p) => p.in === "header");
  let detail = "";

  const path: Record<string, PathValue> = {};
  for (const p of pathParams) path[p.name] = originOf(op, p, c.base.path[p.name] ?? "x", world, resolve);
  if (m.kind.startsWith("path-") && pathParams.length)
    detail = mutatePath(op, pick(pathParams, "param" in m ? m.param : 0), path, m, world, c.identity);

  const query = new Map(Object.entries(c.base.query));
  let rawTail = "";
  const queried = mutateQuery(queryParams, query, m);
  detail ||= queried;
  if (m.kind === "query-raw") rawTail = detail = pick(RAW_QUERY, m.variant);

  const headers: Record<string, string> = { ...c.base.headers, "cf-connecting-ip": addressFor(seq) };
  if (m.kind === "header-garbage" && headerParams.length) {
    const p = pick(headerParams, m.param);
    headers[p.name] = pick(HEADER_GARBAGE, m.variant);
    detail = `${p.name}: ${headers[p.name]}`;
  }
  const auth = authorizationFor(world, c.identity, c.forgery, op);
  if (auth !== undefined) headers.authorization = auth;
  if (needsTenant(op)) {
    headers["x-tenant"] = m.kind === "tenant-garbage" ? pick(TENANT_GARBAGE, m.variant) : world.tenant.slug;
    if (m.kind === "tenant-garbage") reasons.push(`X-Tenant '${headers["x-tenant"]}' names no tenant`);
  }

  const limit = needsTenant(op) ? world.tenant.maxBodyBytes : Number(env.MAX_BODY_BYTES) || 1024 * 1024;
  const built = buildBody(op, c.base, m, world, resolve, limit);
  if (built.contentType) headers["content-type"] = built.contentType;
  reasons.push(...built.reasons);
  detail ||= built.detail ?? "";

  // Who is asking.
  const who = authReason(c.identity, op);
  if (who) reasons.push(who);
  if (UPGRADE_ONLY.has(`${op.method} ${op.path}`)) reasons.push("plain HTTP on a WebSocket upgrade route");

  // What the path names.
  for (const p of pathParams) {
    const v = path[p.name]!;
    const bad = v.raw ? null : paramViolation(p, v.value, resolve);
    if (bad) reasons.push(`path: ${bad}`);
    const named = namesSets(kindOf(op.path, p.name));
    if (v.origin === "garbage" && !named) reasons.push(`path ${p.name} cannot be an id`);
    if ((v.origin === "unknown" || v.origin === "foreign") && !isIdempotentDelete(op) && !named) {
      reasons.push(`path ${p.name} is ${v.origin === "foreign" ? "another tenant's id" : "an id of nothing"}`);
    }
    // Only where the caller is authenticated: a signed URL (public) opens its file for anyone.
    if (
      v.origin === "local" &&
      v.item &&
      isActor(c.identity) &&
      op.security.length > 0 &&
      !needsPermission(op) &&
      notTheCallers(v.item, c.identity, op.method)
    ) {
      reasons.push(`path ${p.name} is another user's private object`);
    }
  }
  // What the query says.
  for (const p of queryParams) {
    const raw = query.get(p.name);
    const bad = paramViolation(p, raw, resolve);
    if (bad) reasons.push(`query: ${bad}`);
    if (raw?.includes("\u0000")) reasons.push(`NUL in query ${p.name}`);
    if (p.name === "cursor" && raw) reasons.push("a cursor this API never issued");
  }
  for (const p of headerParams) {
    const bad = paramViolation(p, headers[p.name], resolve);
    if (bad) reasons.push(`header: ${bad}`);
  }
  if (queryParams.some((p) => p.name === "sig")) {
    const id = path[pathParams[0]?.name ?? ""]?.value;
    const genuine = (world.local.files ?? []).some(
      (f) => f.id === id && f.signed?.exp === query.get("exp") && f.signed?.sig === query.get("sig"),
    );
    if (!genuine) reasons.push("a download URL this API did not sign");
  }

  const concrete = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const v = path[name]!;
    return v.raw ? v.value : encodeSegment(v.value);
  });
  const qs = new URLSearchParams([...query.entries()]).toString();
  const search = [qs, rawTail].filter(Boolean).join("&");
  const url = `http://api.test${concrete}${search ? `?${search}` : ""}`;
  let label = `${m.kind}${detail ? ` ${truncate(detail, 120)}` : ""}`;
  // The URL parser resolves `..` and `%2e%2e`: the request then reaches another route, whose
  // rules are not this operation's. Only "no 5xx, problem+json" still applies.
  if (!pathPattern(op).test(new URL(url).pathname)) {
    reasons.length = 0;
    label += " (URL parsing moved it to another route)";
  }
  return {
    identity: c.identity,
    method: op.method,
    url,
    headers,
    ...(built.body ? { body: built.body } : {}),
    reasons,
    ...(built.soft ? { soft: built.soft } : {}),
    label,
  };
}

/** Where a baseline's path value comes from: a fixture (with its owners), an alias, or nowhere. */
function originOf(op: Operation, p: Parameter, value: string, world: World, resolve: Resolve): PathValue {
  if (isNumericParam(typesOf(resolve(p.schema))?.[0])) return { value, origin: "numeric" };
  if (value === "me") return { value, origin: "alias" };
  const item = poolFor(world.local, op.path, kindOf(op.path, p.name)).find((i) => i.id === value);
  return item ? { value, origin: "local", item } : { value, origin: "unknown" };
}

function mutatePath(
  op: Operation,
  p: Parameter,
  path: Record<string, PathValue>,
  m: Mutation,
  world: World,
  identity: IdentityName,
): string {
  const kind = kindOf(op.path, p.name);
  const numeric = path[p.name]!.origin === "numeric";
  if (m.kind === "path-garbage") {
    const g = pick(
      PATH_GARBAGE.filter((x) => x.value !== "me"),
      m.variant,
    );
    path[p.name] = { value: g.value, origin: numeric ? "numeric" : "garbage", ...(g.raw ? { raw: true } : {}) };
  } else if (m.kind === "path-unknown-id" && !numeric) {
    path[p.name] = { value: unknownId(world.local, kind, m.salt), origin: "unknown" };
  } else if (m.kind === "path-foreign-id" && !numeric) {
    const id = kind === "tenants" ? undefined : foreignId(world.foreign, kind, m.pick);
    path[p.name] = id
      ? { value: id, origin: "foreign" }
      : { value: unknownId(world.local, kind, m.pick), origin: "unknown" };
  } else if (m.kind === "path-not-mine" && !numeric && isActor(identity)) {
    const others = poolFor(world.local, op.path, kind).filter((i) => notTheCallers(i, identity, op.method));
    if (others.length) {
      const item = pick(others, m.pick);
      path[p.name] = { value: item.id, origin: "local", item };
    }
  }
  return `${p.name}=${truncate(JSON.stringify(path[p.name]!.value), 80)}`;
}

function mutateQuery(params: Parameter[], query: Map<string, string>, m: Mutation): string {
  if (!params.length) return "";
  switch (m.kind) {
    case "query-garbage": {
      const p = pick(params, m.param);
      query.set(p.name, pick(QUERY_GARBAGE, m.variant));
      return `${p.name}=${truncate(JSON.stringify(query.get(p.name)), 60)}`;
    }
    case "query-nul": {
      const p = pick(params, m.param);
      const cur = query.get(p.name) || "fuzz";
      const at = m.at % (cur.length + 1);
      query.set(p.name, `${cur.slice(0, at)}\u0000${cur.slice(at)}`);
      return p.name;
    }
    case "query-missing-required": {
      const required = params.filter((x) => x.required);
      const p = pick(required.length ? required : params, m.param);
      query.delete(p.name);
      return p.name;
    }
    case "query-forged-cursor":
      query.set("cursor", forgedCursor(m.variant, m.salt));
      return `cursor=${query.get("cursor")}`;
    case "query-extra":
      query.set(m.key, m.value);
      return m.key;
    default:
      return "";
  }
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** encodeURIComponent, which throws on lone surrogates; those go as U+FFFD. */
function encodeSegment(v: string): string {
  return encodeURIComponent(v.replace(LONE_SURROGATE, "\ufffd"));
}

/** `s` cut to `n` characters, saying how long it was. */
export const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

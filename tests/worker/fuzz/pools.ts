import { services } from "../../../src/workers/gateway/services";
import { prng } from "./hostile";

/**
 * Real ids the fixtures created, by kind, so baselines reach the handlers instead of stopping at
 * a 404, and so mutations can swap in another user's, another tenant's or nobody's id.
 */

/** The signed-in identities whose objects the oracle tracks. */
export type ActorName = "owner" | "admin" | "member";

/**
 * Kinds of object the fixtures (world.ts) create ids of: the kinds the service modules declare
 * (`fuzzIds` in src/workers/<service>/module.ts). The fuzz test fails when the two differ.
 */
export type Kind =
  | "users"
  | "posts"
  | "comments"
  | "tags"
  | "reports"
  | "moderationItems"
  | "conversations"
  | "messages"
  | "files"
  | "uploads"
  | "roles"
  | "apiKeys"
  | "webhooks"
  | "deliveries"
  | "friendRequests"
  | "friendGroups"
  | "notifications"
  | "sessions"
  | "deadLetters"
  | "tenants"
  | "products"
  | "orders"
  | "topUps"
  | "knowledge"
  | "chatSessions"
  | "exports"
  | "backups"
  | "restores"
  | "appFiles";

/** One fixture object. */
export interface Item {
  id: string;
  /**
   * Who may act on it. Absent: not owned by anyone in particular (users, tenant-wide admin
   * objects). Empty: owned by users who are not identities of the suite (victims).
   */
  owners?: ActorName[];
  /** Others may read it (avatars are visible to the whole tenant). */
  readableByAll?: boolean;
  /** A user that is no identity: the only users the tenant-admin routes get (see {@link poolFor}). */
  victim?: boolean;
  /** A file's signed download query (exp, sig), for the public content route. */
  signed?: { exp: string; sig: string };
}

/** Fixture ids by kind. */
export type Pools = Partial<Record<Kind, Item[]>>;

/** Which kind of id a path parameter or body field holds, and a collection segment names, by the modules. */
const BY_PARAM: Record<string, Kind> = {};
const BY_SEGMENT: Record<string, Kind> = {};
for (const s of services) {
  for (const [kind, ids] of Object.entries(s.fuzzIds ?? {})) {
    for (const p of ids.params ?? []) BY_PARAM[p] = kind as Kind;
    for (const seg of ids.segments ?? []) BY_SEGMENT[seg] = kind as Kind;
  }
}

/** Kinds whose values are names of possibly empty sets (a tag): an unknown one is valid input. */
const NAMES = new Set(
  services.flatMap((s) =>
    Object.entries(s.fuzzIds ?? {})
      .filter(([, k]) => k.names)
      .map(([n]) => n),
  ),
);
export const namesSets = (kind: Kind | undefined) => kind !== undefined && NAMES.has(kind);

/** Every kind some service declares. */
export const declaredKinds = (): string[] => services.flatMap((s) => Object.keys(s.fuzzIds ?? {}));

/**
 * The kind of id a path parameter or body field holds: by its name (`userId`, `fileId`, …), else
 * by the collection segment before it (`/roles/{id}`). Undefined: unknown, any kind is tried.
 */
export function kindOf(path: string, name: string): Kind | undefined {
  if (BY_PARAM[name]) return BY_PARAM[name];
  const segments = path.split("/");
  const at = segments.indexOf(`{${name}}`);
  return at > 0 ? BY_SEGMENT[segments[at - 1]!] : undefined;
}

/**
 * Body fields that reference an object by id (`toUserId`, `memberIds`, `avatarFileId`): a
 * foreign or unknown id there is invalid input. A bare `id` in a body is the client's own (a
 * device's id), as is `clientId` (a message's idempotency key).
 */
export const isReferenceField = (name: string) => name !== "clientId" && /[a-z]Ids?$/.test(name);

/** Whether an integer-looking path parameter (`/parts/{n}`) holds a number rather than an id. */
export const isNumericParam = (type: string | undefined) => type === "integer" || type === "number";

/**
 * The items a parameter may take in a baseline. Tenant-admin routes (/v1/admin/users/…) only get
 * victim users: suspending, deleting, signing out or re-roling the owner, the admin or the member
 * would destroy the identities the oracle's expectations are about, and give the member
 * permissions.
 */
export function poolFor(pools: Pools, path: string, kind: Kind | undefined): Item[] {
  const all = kind ? (pools[kind] ?? []) : Object.values(pools).flat();
  if (kind === "users" && path.startsWith("/v1/admin/")) return all.filter((i) => i.victim);
  return all;
}

/**
 * Whether the caller may not see or change the item: a private object of someone else (a
 * session, a notification, a friend group, an upload, a file, a conversation it is not in).
 * Undefined ownership (users, roles, webhooks) never decides.
 */
export function notTheCallers(item: Item, caller: ActorName, method: string): boolean {
  if (!item.owners || item.owners.includes(caller)) return false;
  return !(item.readableByAll && method === "GET");
}

const CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz";

/**
 * A well-formed id of nothing: a real id of the kind with its characters redrawn from the same
 * classes (prefixes such as `g_` or `t-` kept), so it passes any format check and names no row.
 */
export function unknownId(pools: Pools, kind: Kind | undefined, salt: number): string {
  const rnd = prng(salt);
  const known = new Set(
    Object.values(pools)
      .flat()
      .map((i) => i.id.toLowerCase()),
  );
  const models = (kind ? pools[kind] : undefined) ?? [];
  const model = models.length ? models[Math.floor(rnd() * models.length)]!.id : "0".repeat(26);
  const keep = Math.max(model.lastIndexOf("_"), model.lastIndexOf("-")) + 1;
  for (;;) {
    let out = model.slice(0, keep);
    for (const ch of model.slice(keep)) {
      const r = Math.floor(rnd() * 32);
      out += /[0-9]/.test(ch)
        ? String(r % 10)
        : /[a-z]/.test(ch)
          ? CROCKFORD[10 + (r % 22)]
          : /[A-Z]/.test(ch)
            ? CROCKFORD[10 + (r % 22)]!.toUpperCase()
            : ch;
    }
    if (!known.has(out.toLowerCase())) return out;
  }
}

/** Another tenant's id of the kind (of any kind when it has none of this one). */
export function foreignId(foreign: Pools, kind: Kind | undefined, pick: number): string | undefined {
  const own = (kind ? foreign[kind] : undefined) ?? [];
  const list = own.length ? own : Object.values(foreign).flat();
  return list.length ? list[pick % list.length]!.id : undefined;
}

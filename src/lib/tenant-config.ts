import { z } from "zod";

/**
 * A tenant's configuration, stored as JSON on the tenant row and validated on every write.
 * Every field has a default so `{}` is a complete config and PATCHes can be partial.
 */
const origin = z
  .string()
  .max(255)
  .refine((v) => v === "*" || /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/i.test(v), {
    message: "must be '*' or an origin like https://app.example.com",
  });

const FEATURE_NAME = z.string().regex(/^[a-z][a-zA-Z0-9_.-]{0,63}$/);
/** Feature flags are a bounded map: the config is read on every request of the tenant. */
const MAX_FEATURES = 200;
const fewFeatures = (v: Record<string, unknown>) => Object.keys(v).length <= MAX_FEATURES;
const FEW_FEATURES = `at most ${MAX_FEATURES} feature flags`;

export const TenantConfigSchema = z
  .object({
    allowedOrigins: z.array(origin).max(50).default([]),
    limits: z
      .object({
        maxBodyBytes: z
          .number()
          .int()
          .min(1024)
          .max(10 * 1024 * 1024)
          .default(1024 * 1024),
        maxFriends: z.number().int().min(1).max(100_000).default(5000),
        /** Pending friend requests a user may have outgoing, and incoming. */
        maxPendingRequests: z.number().int().min(1).max(10_000).default(200),
        friendRequestTtlDays: z.number().int().min(1).max(365).default(30),
        maxGroupMembers: z.number().int().min(2).max(100_000).default(500),
        maxUploadBytes: z
          .number()
          .int()
          .min(1024)
          .max(100 * 1024 * 1024)
          .default(10 * 1024 * 1024),
        requestsPerMinute: z.number().int().min(1).max(1_000_000).default(600),
      })
      .strict()
      .prefault({}),
    session: z
      .object({
        accessTokenTtlSeconds: z.number().int().min(60).max(86_400).default(600),
        refreshIdleDays: z.number().int().min(1).max(365).default(30),
        refreshAbsoluteDays: z.number().int().min(1).max(730).default(90),
        /** Most live sessions per user, and per platform (e.g. { ios: 1, desktop: 1 } like IM apps). */
        maxSessions: z.number().int().min(1).max(100).default(10),
        perPlatform: z.record(z.string().regex(/^[a-z0-9_-]{1,32}$/), z.number().int().min(1).max(100)).default({}),
        overflow: z.enum(["evict_oldest", "refuse"]).default("evict_oldest"),
      })
      .strict()
      .prefault({}),
    auth: z
      .object({
        /**
         * Failed sign-ins per account from one client address (or on one trusted device) within
         * the lockout window before that pair is locked out; other addresses are not.
         */
        maxFailures: z.number().int().min(1).max(100).default(5),
        /**
         * Failed sign-ins per account per minute from untrusted devices, all addresses together:
         * the slower global backoff (Retry-After under a minute), never a long lockout.
         */
        accountFailuresPerMinute: z.number().int().min(1).max(1000).default(10),
        /** How long a device that signed in stays trusted (its deviceToken), so failures elsewhere never lock it out. */
        deviceTrustDays: z.number().int().min(1).max(365).default(90),
        /** Failed sign-ins per client address within the window. */
        maxFailuresPerAddress: z.number().int().min(1).max(10_000).default(50),
        lockoutSeconds: z.number().int().min(10).max(86_400).default(900),
        /** Failed MFA codes per account within the lockout window. */
        maxMfaFailures: z.number().int().min(1).max(100).default(5),
      })
      .strict()
      .prefault({}),
    features: z.record(FEATURE_NAME, z.boolean()).refine(fewFeatures, FEW_FEATURES).default({}),
    messages: z
      .object({
        /** How long after sending its sender may edit a message (0: never). */
        editWindowSeconds: z
          .number()
          .int()
          .min(0)
          .max(30 * 86_400)
          .default(900),
        /** How long after sending its sender may recall a message (0: never; group owner/admins are not limited). */
        recallWindowSeconds: z
          .number()
          .int()
          .min(0)
          .max(30 * 86_400)
          .default(120),
        /** Whether a direct conversation may start between users who are not friends (blocks still refuse it). */
        directWithStrangers: z.boolean().default(false),
        /** The word-list moderation hook (src/lib/moderation.ts): off, refuse a match, or star it out. */
        moderation: z
          .object({
            mode: z.enum(["off", "block", "mask"]).default("off"),
            words: z.array(z.string().trim().min(1).max(100)).max(2000).default([]),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    /** Caps on each WebSocket connection, read when it opens (src/workers/realtime/connect.ts). */
    realtime: z
      .object({
        /** Largest client frame in bytes of UTF-8; a larger one closes the socket with 1009. */
        maxFrameBytes: z
          .number()
          .int()
          .min(1024)
          .max(1024 * 1024)
          .default(64 * 1024),
        /** Client frames per connection per second; one more closes the socket with 1008. */
        framesPerSecond: z.number().int().min(1).max(1000).default(20),
      })
      .strict()
      .prefault({}),
    signIn: z
      .object({
        password: z.boolean().default(true),
        username: z.boolean().default(true),
        email: z.boolean().default(true),
        registration: z.enum(["open", "closed"]).default("open"),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type TenantConfig = z.infer<typeof TenantConfigSchema>;

type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K];
};

/** A deep-partial config, as accepted by create and PATCH; a feature set to null is removed. */
export type TenantConfigPatch = Omit<DeepPartial<TenantConfig>, "features"> & {
  features?: Record<string, boolean | null>;
};

/**
 * The PATCH form of a config object, derived from the schema so every section has one: every
 * field optional and *no default filled in* (a default in a parsed patch would overwrite the
 * stored value: `{ limits: { maxFriends: 5 } }` reset every other limit before), nested objects
 * the same way, unknown fields refused.
 */
function patchOf(schema: z.ZodObject): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, field] of Object.entries(schema.shape)) {
    let f = field as z.ZodType;
    while (f instanceof z.ZodDefault || f instanceof z.ZodPrefault) f = f.unwrap() as z.ZodType;
    shape[key] = (f instanceof z.ZodObject ? patchOf(f) : f).optional();
  }
  return z.object(shape).strict();
}

export const TenantConfigPatchSchema = patchOf(TenantConfigSchema).extend({
  features: z.record(FEATURE_NAME, z.boolean().nullable()).refine(fewFeatures, FEW_FEATURES).optional(),
}) as unknown as z.ZodType<TenantConfigPatch>;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** `patch` laid over `base`: objects merge at every depth, arrays and values replace, `null` removes a key. */
function deepMerge(base: unknown, patch: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(patch)) return patch === undefined ? base : patch;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (v !== undefined) out[k] = deepMerge(base[k], v);
  }
  return out;
}

/**
 * Applies a partial patch, the same way for every section, so a section added to the schema
 * needs nothing here and a PATCH of one section never resets another: objects merge at every
 * depth (`messages.moderation.mode` keeps the word list), arrays (`allowedOrigins`) are replaced
 * whole, a key set to `null` (a feature flag) is removed. The result is validated again.
 */
export function mergeConfig(base: TenantConfig, patch: TenantConfigPatch): TenantConfig {
  return TenantConfigSchema.parse(deepMerge(base, patch));
}

/** Parses a stored config, tolerating fields added since it was written (defaults fill them). */
export function parseStoredConfig(json: string): TenantConfig {
  return TenantConfigSchema.parse(JSON.parse(json));
}

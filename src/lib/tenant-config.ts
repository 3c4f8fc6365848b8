import { z } from "zod";

/**
 * A tenant's configuration, stored as JSON on the tenant row and validated on every write.
 * Every field has a default so `{}` is a complete config and PATCHes can be partial. The gateway's
 * part is here; each service declares its own part in its module (src/workers/<service>/config.ts),
 * and the list of modules installs them all (src/workers/gateway/services.ts).
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

/** One service's part of the tenant config: sections of its own, and fields it adds to `limits`. */
export interface ConfigPart {
  sections?: Record<string, z.ZodType>;
  limits?: Record<string, z.ZodType>;
}

/**
 * The limits every tenant has. A service adds its own by augmenting this interface beside its
 * config part (src/workers/<service>/config.ts), the way Hono's context variables are typed.
 */
export interface TenantLimits {
  maxBodyBytes: number;
  requestsPerMinute: number;
}

/** A tenant's configuration; services add their sections by augmenting this interface. */
export interface TenantConfig {
  allowedOrigins: string[];
  limits: TenantLimits;
  features: Record<string, boolean>;
}

/** The types a config part adds to {@link TenantConfig}, for its augmentation. */
export type SectionsOf<P extends ConfigPart> = {
  [K in keyof NonNullable<P["sections"]>]: z.output<NonNullable<P["sections"]>[K]>;
};
/** The types a config part adds to {@link TenantLimits}, for its augmentation. */
export type LimitsOf<P extends ConfigPart> = {
  [K in keyof NonNullable<P["limits"]>]: z.output<NonNullable<P["limits"]>[K]>;
};

/** The gateway's part: origins for CORS, the body limit, the request rate, feature flags. */
const corePart = {
  sections: {
    allowedOrigins: z.array(origin).max(50).default([]),
    features: z.record(FEATURE_NAME, z.boolean()).refine(fewFeatures, FEW_FEATURES).default({}),
  },
  limits: {
    maxBodyBytes: z
      .number()
      .int()
      .min(1024)
      .max(10 * 1024 * 1024)
      .default(1024 * 1024),
    requestsPerMinute: z.number().int().min(1).max(1_000_000).default(600),
  },
} satisfies ConfigPart;

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

interface Assembled {
  schema: z.ZodObject;
  patch: z.ZodObject;
}

/** The parts in order, each key once: a section or limit declared twice is a wiring mistake. */
function assemble(parts: ConfigPart[]): Assembled {
  const sections: Record<string, z.ZodType> = {};
  const limits: Record<string, z.ZodType> = {};
  for (const part of [corePart, ...parts]) {
    for (const [into, from] of [
      [sections, part.sections],
      [limits, part.limits],
    ] as const) {
      for (const [key, field] of Object.entries(from ?? {})) {
        if (key in into || key === "limits") throw new Error(`tenant config: ${key} is declared twice`);
        into[key] = field;
      }
    }
  }
  const { allowedOrigins, features, ...rest } = sections;
  const schema = z
    .object({ allowedOrigins, limits: z.object(limits).strict().prefault({}), features, ...rest } as Record<
      string,
      z.ZodType
    >)
    .strict();
  const patch = patchOf(schema).extend({
    features: z.record(FEATURE_NAME, z.boolean().nullable()).refine(fewFeatures, FEW_FEATURES).optional(),
  });
  return { schema, patch };
}

let assembled: Assembled | undefined;

/**
 * Sets the config from the services' parts (src/workers/gateway/services.ts does, once, from
 * the list of service modules); until then only the gateway's part is known.
 */
export function installConfigParts(parts: ConfigPart[]): void {
  assembled = assemble(parts);
}

const current = (): Assembled => (assembled ??= assemble([]));

/** The whole config schema: every field has a default, so `{}` is a complete config. */
export const tenantConfigSchema = (): z.ZodType<TenantConfig> => current().schema as unknown as z.ZodType<TenantConfig>;

/** The PATCH schema: every field optional, no defaults, a feature set to null removes it. */
export const tenantConfigPatchSchema = (): z.ZodType<TenantConfigPatch> =>
  current().patch as unknown as z.ZodType<TenantConfigPatch>;

/** The config of a tenant that set nothing. */
export const defaultTenantConfig = (): TenantConfig => tenantConfigSchema().parse({});

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
 * Applies a partial patch, the same way for every section, so a section added by a service
 * needs nothing here and a PATCH of one section never resets another: objects merge at every
 * depth (`messages.moderation.mode` keeps the word list), arrays (`allowedOrigins`) are replaced
 * whole, a key set to `null` (a feature flag) is removed. The result is validated again.
 */
export function mergeConfig(base: TenantConfig, patch: TenantConfigPatch): TenantConfig {
  return tenantConfigSchema().parse(deepMerge(base, patch));
}

/** Parses a stored config, tolerating fields added since it was written (defaults fill them). */
export function parseStoredConfig(json: string): TenantConfig {
  return tenantConfigSchema().parse(JSON.parse(json));
}

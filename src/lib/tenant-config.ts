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

export const TenantConfigSchema = z
  .object({
    allowedOrigins: z.array(origin).max(50).default([]),
    limits: z
      .object({
        maxBodyBytes: z.number().int().min(1024).max(10 * 1024 * 1024).default(1024 * 1024),
        maxFriends: z.number().int().min(1).max(100_000).default(5000),
        maxGroupMembers: z.number().int().min(2).max(100_000).default(500),
        maxUploadBytes: z.number().int().min(1024).max(100 * 1024 * 1024).default(10 * 1024 * 1024),
        requestsPerMinute: z.number().int().min(1).max(1_000_000).default(600),
      })
      .strict()
      .default({
        maxBodyBytes: 1024 * 1024,
        maxFriends: 5000,
        maxGroupMembers: 500,
        maxUploadBytes: 10 * 1024 * 1024,
        requestsPerMinute: 600,
      }),
    session: z
      .object({
        accessTokenTtlSeconds: z.number().int().min(60).max(86_400).default(600),
        refreshIdleDays: z.number().int().min(1).max(365).default(30),
        refreshAbsoluteDays: z.number().int().min(1).max(730).default(90),
      })
      .strict()
      .default({ accessTokenTtlSeconds: 600, refreshIdleDays: 30, refreshAbsoluteDays: 90 }),
    features: z.record(z.string().regex(/^[a-z][a-zA-Z0-9_.-]{0,63}$/), z.boolean()).default({}),
    signIn: z
      .object({
        password: z.boolean().default(true),
        username: z.boolean().default(true),
        email: z.boolean().default(true),
        registration: z.enum(["open", "closed"]).default("open"),
      })
      .strict()
      .default({ password: true, username: true, email: true, registration: "open" }),
  })
  .strict();

export type TenantConfig = z.infer<typeof TenantConfigSchema>;

/** A deep-partial config, as accepted by create and PATCH. */
export const TenantConfigPatchSchema = z
  .object({
    allowedOrigins: TenantConfigSchema.shape.allowedOrigins.unwrap().optional(),
    limits: TenantConfigSchema.shape.limits.unwrap().partial().optional(),
    session: TenantConfigSchema.shape.session.unwrap().partial().optional(),
    features: z.record(z.string(), z.boolean().nullable()).optional(),
    signIn: TenantConfigSchema.shape.signIn.unwrap().partial().optional(),
  })
  .strict();

export type TenantConfigPatch = z.infer<typeof TenantConfigPatchSchema>;

/**
 * Applies a partial patch: objects merge one level deep; a feature set to null is removed;
 * `allowedOrigins` is replaced whole. The result is validated again by the caller's parse.
 */
export function mergeConfig(base: TenantConfig, patch: TenantConfigPatch): TenantConfig {
  const features: Record<string, boolean> = { ...base.features };
  for (const [k, v] of Object.entries(patch.features ?? {})) {
    if (v === null) delete features[k];
    else features[k] = v;
  }
  return TenantConfigSchema.parse({
    allowedOrigins: patch.allowedOrigins ?? base.allowedOrigins,
    limits: { ...base.limits, ...patch.limits },
    session: { ...base.session, ...patch.session },
    features,
    signIn: { ...base.signIn, ...patch.signIn },
  });
}

/** Parses a stored config, tolerating fields added since it was written (defaults fill them). */
export function parseStoredConfig(json: string): TenantConfig {
  return TenantConfigSchema.parse(JSON.parse(json));
}

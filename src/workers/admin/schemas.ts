import { z } from "@hono/zod-openapi";
import { lineText } from "../../lib/text";
import { tenantConfigPatchSchema, tenantConfigSchema } from "../../lib/tenant-config";

// Lazy: the config is assembled from the list of service modules, after this module loads.
const TenantConfigSchema = z.lazy(tenantConfigSchema);
const TenantConfigPatchSchema = z.lazy(tenantConfigPatchSchema);

/** Slugs double as host labels (<slug>.<base domain>), so they follow DNS label rules. */
export const RESERVED_SLUGS = new Set([
  "admin",
  "api",
  "app",
  "www",
  "docs",
  "status",
  "platform",
  "internal",
  "system",
  "root",
  "mail",
  "static",
  "cdn",
  "assets",
  "auth",
  "login",
  "canopy",
  "dev",
  "test",
  "localhost",
]);

export const SlugSchema = z
  .string()
  .min(3)
  .max(40)
  .regex(
    /^[a-z][a-z0-9-]*[a-z0-9]$/,
    "must be 3–40 lowercase letters, digits or '-', start with a letter and not end with '-'",
  )
  .refine((s) => !s.includes("--"), "must not contain '--'")
  .refine((s) => !RESERVED_SLUGS.has(s), "is reserved")
  .openapi({ example: "acme" });

export const PlanSchema = z.enum(["free", "pro", "enterprise"]);

export const CreateTenantSchema = z
  .object({
    slug: SlugSchema,
    name: lineText(120),
    plan: PlanSchema.default("free"),
    config: TenantConfigPatchSchema.optional(),
    /** The tenant's first account, holding the `owner` role. */
    owner: z
      .object({ email: z.email().max(254), password: z.string().min(1).max(512) })
      .strict()
      .optional(),
  })
  .strict()
  .openapi("CreateTenant");

export const UpdateTenantSchema = z
  .object({
    name: lineText(120).optional(),
    plan: PlanSchema.optional(),
    config: TenantConfigPatchSchema.optional(),
  })
  .strict()
  .refine((v) => v.name !== undefined || v.plan !== undefined || v.config !== undefined, "nothing to update")
  .openapi("UpdateTenant");

export const TenantStatusSchema = z.enum(["active", "suspended", "deleted"]);

export const TenantSchema = z
  .object({
    id: z.string(),
    slug: z.string(),
    name: z.string(),
    status: TenantStatusSchema,
    plan: z.string(),
    config: TenantConfigSchema,
    database: z.object({ provider: z.string(), name: z.string(), url: z.string().nullable() }),
    createdAt: z.string().datetime(),
    updatedAt: z.string().datetime(),
    suspendedAt: z.string().datetime().nullable(),
    deletedAt: z.string().datetime().nullable(),
  })
  .openapi("Tenant");
export type TenantView = z.infer<typeof TenantSchema>;

export const MigrationStatusSchema = z
  .object({
    tenant: z.string(),
    version: z.number().int(),
    latest: z.number().int(),
    pending: z.array(z.object({ version: z.number().int(), name: z.string() })),
    applied: z.array(z.object({ version: z.number().int(), name: z.string(), appliedAt: z.string().datetime() })),
  })
  .openapi("MigrationStatus");

export const SlugParamSchema = z.object({
  slug: z
    .string()
    .max(64)
    .openapi({ param: { name: "slug", in: "path" } }),
});

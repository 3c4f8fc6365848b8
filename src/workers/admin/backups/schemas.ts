import { z } from "@hono/zod-openapi";
import { SlugSchema } from "../schemas";

const status = z.enum(["running", "done", "failed"]);

export const BackupSchema = z
  .object({
    id: z.string(),
    tenant: z.string().openapi({ description: "The slug of the tenant backed up" }),
    status,
    trigger: z.enum(["manual", "scheduled"]),
    schemaVersion: z.number().int().nullable().openapi({ description: "The tenant database's migration version" }),
    parts: z.number().int().openapi({ description: "Objects in R2: data parts and file copies" }),
    rows: z.number().int().openapi({ description: "Database rows" }),
    bytes: z.number().int(),
    error: z.string().nullable(),
    createdAt: z.string().datetime(),
    finishedAt: z.string().datetime().nullable(),
  })
  .openapi("Backup");
export type BackupView = z.infer<typeof BackupSchema>;

export const BackupParamSchema = z.object({
  slug: z
    .string()
    .max(64)
    .openapi({ param: { name: "slug", in: "path" } }),
  backupId: z
    .string()
    .max(64)
    .openapi({ param: { name: "backupId", in: "path" } }),
});

export const RestoreBodySchema = z
  .object({
    backupId: z.string().min(1).max(64),
    /** The new tenant's slug: free, and following the slug rules of tenant creation. */
    intoSlug: SlugSchema,
  })
  .strict()
  .openapi("RestoreRequest");

export const RestoreSchema = z
  .object({
    id: z.string(),
    backupId: z.string(),
    intoSlug: z.string(),
    status,
    rows: z.number().int().openapi({ description: "Database rows restored" }),
    objects: z.number().int().openapi({ description: "User hubs and conversations restored" }),
    error: z.string().nullable(),
    createdAt: z.string().datetime(),
    finishedAt: z.string().datetime().nullable(),
  })
  .openapi("Restore");
export type RestoreView = z.infer<typeof RestoreSchema>;

export const RestoreParamSchema = z.object({
  restoreId: z
    .string()
    .max(64)
    .openapi({ param: { name: "restoreId", in: "path" } }),
});

import { z } from "@hono/zod-openapi";

export const ExportIdParamSchema = z.object({ id: z.string().min(1).max(64) });
export const AdminExportParamSchema = z.object({
  id: z.string().min(1).max(64),
  exportId: z.string().min(1).max(64),
});
export const DownloadQuerySchema = z.object({
  exp: z.string().max(16).optional(),
  sig: z.string().max(64).optional(),
});

export const ExportCreatedSchema = z.object({ id: z.string() }).openapi("ExportCreated");

export const ExportSchema = z
  .object({
    id: z.string(),
    status: z.enum(["pending", "ready", "failed"]),
    url: z
      .string()
      .optional()
      .openapi({ description: "When ready: a download URL signed for the signed-in user, expiring with the archive" }),
    expiresAt: z.string().optional().openapi({ description: "When ready: when the archive is deleted (ISO 8601)" }),
    size: z.number().int().optional().openapi({ description: "When ready: the archive's size in bytes" }),
  })
  .openapi("DataExport");

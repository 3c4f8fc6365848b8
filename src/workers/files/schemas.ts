import { z } from "@hono/zod-openapi";
import { PageQuerySchema } from "../gateway/http";
import { PURPOSES } from "./policy";

// Any string up to 64 characters: an id that is not one of ours is simply unknown (404), not a
// validation error that would tell ids apart from other input.
const FileIdSchema = z.string().min(1).max(64);

export const FileParamsSchema = z.object({ id: FileIdSchema });

const Purpose = z
  .enum(PURPOSES)
  .openapi({ description: "What the file is for: decides accepted types, size cap and visibility" });

/** A file as the API shows it (shared with the realtime service's attachments). */

/**
 * The multipart form of `POST /v1/files`. The `file` part's bytes are checked by the service
 * (size, sniffed type); its own Content-Type is ignored.
 */
export const UploadFormSchema = z
  .object({
    file: z
      .custom<File>((v) => v instanceof File, { message: "a file part named 'file' is required" })
      .openapi({ type: "string", format: "binary" }),
    purpose: Purpose,
    // A text field like any JSON string: NUL is refused, as everywhere (security.md). Other
    // control characters and path segments are cleaned from file names (policy.ts cleanName).
    name: z
      .string()
      .min(1)
      .max(255)
      .refine((v) => !v.includes("\u0000"), "must not contain NUL characters")
      .optional()
      .openapi({ description: "Overrides the part's file name" }),
  })
  .openapi("FileUpload");

export const ListQuerySchema = PageQuerySchema.extend({ purpose: Purpose.optional() });

/** Starts a multipart upload. `contentType`, when given, must match what the first part sniffs as. */
export const UploadInitSchema = z
  .object({
    purpose: Purpose,
    name: z.string().min(1).max(255),
    size: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    contentType: z.string().max(127).optional(),
  })
  .strict()
  .openapi("UploadInit");

export const UploadSchema = z
  .object({
    uploadId: z.string().openapi({ description: "Also the id the file will have once completed" }),
    partSize: z.number().int().openapi({ description: "Every part but the last must be exactly this many bytes" }),
    partCount: z.number().int(),
  })
  .openapi("Upload");

export const PartSchema = z.object({ partNumber: z.number().int(), size: z.number().int() }).openapi("UploadPart");

export const UploadParamsSchema = z.object({ uploadId: FileIdSchema });
export const PartParamsSchema = z.object({ uploadId: FileIdSchema, n: z.coerce.number().int().min(1).max(10_000) });

import { z } from "@hono/zod-openapi";
import { multilineText } from "../../lib/text";
import { PageQuerySchema } from "../gateway/http";
import { MAX_URL_LENGTH, urlSyntaxProblem } from "../../lib/outbound/url";

export const MAX_EVENT_TYPES = 50;
export const MAX_ATTEMPTS_LIMIT = 12;
export const DEFAULT_MAX_ATTEMPTS = 8;
/** How long a rotated-out secret keeps signing by default, and at most. */
export const DEFAULT_OVERLAP_SECONDS = 86_400;
export const MAX_OVERLAP_SECONDS = 7 * 86_400;

export const EventTypePatternSchema = z
  .string()
  .max(128)
  .regex(
    /^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$/,
    "must be an event type (user.registered), a prefix wildcard (friend.*) or *",
  )
  .openapi({ example: "friend.*" });

const UrlSchema = z
  .string()
  .max(MAX_URL_LENGTH, `must be at most ${MAX_URL_LENGTH} characters`)
  // Syntax only here; where the URL may point (which depends on the environment) is checked by
  // the service, which knows where it runs, and answered as webhook_url_not_allowed.
  .refine((v) => urlSyntaxProblem(v) === null, {
    message: "must be an absolute http(s) URL without credentials or fragment",
  })
  .openapi({ example: "https://example.com/webhooks/canopy" });

const EventTypesSchema = z
  .array(EventTypePatternSchema)
  .min(1)
  .max(MAX_EVENT_TYPES)
  .transform((list) => [...new Set(list)])
  .openapi({
    description: "Event types to receive: exact types, prefix wildcards such as friend.*, or * for every type",
  });

const MaxAttemptsSchema = z
  .number()
  .int()
  .min(1)
  .max(MAX_ATTEMPTS_LIMIT)
  .openapi({ description: `Attempts per message before it is given up (first one included), 1–${MAX_ATTEMPTS_LIMIT}` });

export const CreateEndpointSchema = z
  .object({
    url: UrlSchema,
    eventTypes: EventTypesSchema,
    description: multilineText(500).default(""),
    maxAttempts: MaxAttemptsSchema.default(DEFAULT_MAX_ATTEMPTS),
  })
  .strict()
  .openapi("CreateWebhookEndpoint");

export const UpdateEndpointSchema = z
  .object({
    url: UrlSchema.optional(),
    eventTypes: EventTypesSchema.optional(),
    description: multilineText(500).optional(),
    maxAttempts: MaxAttemptsSchema.optional(),
    enabled: z
      .boolean()
      .optional()
      .openapi({ description: "false disables the endpoint; true re-enables it and clears its failure run" }),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, { message: "send at least one field to change" })
  .openapi("UpdateWebhookEndpoint");

export const EndpointSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string(),
    eventTypes: z.array(z.string()),
    enabled: z.boolean(),
    disabledReason: z.string().nullable(),
    disabledAt: z.string().nullable(),
    maxAttempts: z.number().int(),
    consecutiveFailures: z
      .number()
      .int()
      .openapi({ description: "Failed attempts in a row (any message); a success resets it" }),
    failingSince: z.string().nullable(),
    lastSuccessAt: z.string().nullable(),
    previousSecretExpiresAt: z
      .string()
      .nullable()
      .openapi({ description: "Until then, rotated-out secrets still sign alongside the current one" }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("WebhookEndpoint");

export const CreatedEndpointSchema = EndpointSchema.extend({
  secret: z.string().openapi({ description: "The signing secret (whsec_…), shown only now" }),
}).openapi("CreatedWebhookEndpoint");

export const RotateSecretSchema = z
  .object({
    expiresInSeconds: z
      .number()
      .int()
      .min(0)
      .max(MAX_OVERLAP_SECONDS)
      .default(DEFAULT_OVERLAP_SECONDS)
      .openapi({ description: "How long the previous secrets keep signing alongside the new one; 0 stops them now" }),
  })
  .strict()
  .openapi("RotateWebhookSecret");

export const RotatedSecretSchema = z
  .object({
    secret: z.string().openapi({ description: "The new signing secret, shown only now" }),
    previousSecretExpiresAt: z.string().nullable(),
  })
  .openapi("RotatedWebhookSecret");

export const DeliveryStatusSchema = z.enum(["pending", "succeeded", "failed"]);

export const DeliverySchema = z
  .object({
    id: z.string().openapi({ description: "The webhook-id header: the same on every attempt of this message" }),
    endpointId: z.string(),
    eventId: z.string(),
    eventType: z.string(),
    status: DeliveryStatusSchema,
    attempts: z.number().int(),
    nextAttemptAt: z.string().nullable(),
    lastAttemptAt: z.string().nullable(),
    lastResponseStatus: z.number().int().nullable(),
    lastError: z.string().nullable(),
    lastDurationMs: z.number().int().nullable(),
    createdAt: z.string(),
  })
  .openapi("WebhookDelivery");

export const AttemptSchema = z
  .object({
    n: z.number().int(),
    trigger: z.enum(["event", "retry", "manual", "test"]),
    attemptedAt: z.string(),
    responseStatus: z.number().int().nullable(),
    error: z.string().nullable(),
    durationMs: z.number().int(),
  })
  .openapi("WebhookAttempt");

export const DeliveryDetailSchema = DeliverySchema.extend({
  payload: z.unknown().openapi({ description: "The JSON body sent" }),
  attemptLog: z.array(AttemptSchema),
}).openapi("WebhookDeliveryDetail");

export const DeliveryQuerySchema = PageQuerySchema.extend({ status: DeliveryStatusSchema.optional() });

const Id = z.string().min(1).max(64);
export const EndpointParamSchema = z.object({ id: Id });
export const DeliveryParamSchema = z.object({ id: Id, deliveryId: Id });

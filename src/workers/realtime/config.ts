import { z } from "zod";
import type { ConfigPart, LimitsOf, SectionsOf } from "../../lib/tenant-config";

/**
 * The realtime service's part of the tenant config: message rules (applied by the Conversation
 * object, src/durable/conversation/policy.ts), socket caps, and the group size limit.
 */
export const realtimeConfig = {
  sections: {
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
        /**
         * The word-list moderation hook (src/lib/moderation.ts), shared by messages, posts and
         * comments: off, refuse a match, star it out, or hold the post or comment for review
         * (messages are refused under `review`).
         */
        moderation: z
          .object({
            mode: z.enum(["off", "block", "mask", "review"]).default("off"),
            words: z.array(z.string().trim().min(1).max(100)).max(2000).default([]),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    /** Caps on each WebSocket connection, read when it opens (src/workers/realtime/connect.ts), and its routing. */
    realtime: z
      .object({
        /** Largest client frame in bytes of UTF-8; a larger one closes the socket with 1009. */
        maxFrameBytes: z
          .number()
          .int()
          .min(1024)
          .max(1024 * 1024)
          .default(64 * 1024),
        /**
         * Client frames per connection per second, on average: a token bucket of `frameBurst`
         * frames refilled at this rate. A frame beyond it gets an `error` frame `rate_limited`
         * (with the send's clientId and `retryAfterMs`) and the socket stays; ten times the
         * rate for 5 s closes it with 1008.
         */
        framesPerSecond: z.number().int().min(1).max(1000).default(20),
        /** Frames a connection may send at once (a reconnect replaying its offline queue). */
        frameBurst: z.number().int().min(1).max(10_000).default(100),
        /**
         * Gateway objects holding the tenant's sockets (users hashed among them, all of a
         * user's devices on one): a group message costs at most this many calls. A change
         * applies to sockets opened after it; older ones get live frames again once they
         * reconnect (docs/realtime.md, "Gateways").
         */
        gateways: z.number().int().min(1).max(1024).default(16),
      })
      .strict()
      .prefault({}),
  },
  limits: {
    maxGroupMembers: z.number().int().min(2).max(100_000).default(500),
  },
} satisfies ConfigPart;

declare module "../../lib/tenant-config" {
  interface TenantConfig extends SectionsOf<typeof realtimeConfig> {}
  interface TenantLimits extends LimitsOf<typeof realtimeConfig> {}
}

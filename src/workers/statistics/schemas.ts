import { z } from "@hono/zod-openapi";
import { PageQuerySchema } from "../gateway/http";
import { CommerceFields } from "./commerce";
import { isCalendarDay } from "./periods";

const DaySchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a UTC date YYYY-MM-DD")
  .refine(isCalendarDay, "is not a calendar date");

export const GranularitySchema = z.enum(["day", "week", "month"]);

const RangeQuery = {
  from: DaySchema.optional().openapi({
    description: "First UTC day, inclusive (default: 29 days before `to`)",
    example: "2024-03-01",
  }),
  to: DaySchema.optional().openapi({ description: "Last UTC day, inclusive (default: today)", example: "2024-03-31" }),
};

export const StatsQuerySchema = z.object({
  ...RangeQuery,
  granularity: GranularitySchema.default("day").openapi({
    description: "day, week (ISO weeks, Monday first) or month",
  }),
});

export const UsageQuerySchema = PageQuerySchema.extend(RangeQuery);

export const TenantUsageQuerySchema = StatsQuerySchema;

const n = () => z.number().int();

/** Counts of things that happened within a period. */
const FlowFields = {
  registrations: n().openapi({ description: "Accounts created (user.registered)" }),
  logins: n().openapi({ description: "Sessions opened, sign-ups included (session.created)" }),
  messages: n().openapi({ description: "Text and custom messages sent (message.created)" }),
  connections: n().openapi({ description: "Realtime sockets opened (connection.opened)" }),
  filesUploaded: n(),
  filesDeleted: n(),
  bytesUploaded: n(),
  bytesDeleted: n(),
  deletedUsers: n().openapi({ description: "Accounts deleted (user.deleted)" }),
  posts: n().openapi({ description: "Posts published for the first time (post.published)" }),
  comments: n().openapi({ description: "Comments written (comment.created)" }),
  likes: n().openapi({ description: "Likes of posts and comments (post.liked, comment.liked)" }),
  views: n().openapi({ description: "Post views counted, one per viewer per post per hour (post.viewed)" }),
  activeUsers: n().openapi({ description: "Distinct users active in the period" }),
  ...CommerceFields,
};

/** Levels at the end of a period (running sums of the matching in/out counts). */
const StockFields = {
  totalUsers: n().openapi({ description: "Registrations minus deletions, counted since statistics began" }),
  activeConnections: n().openapi({ description: "Sockets opened minus closed" }),
  filesStored: n(),
  bytesStored: n(),
};

const Dau = {
  dau: n(),
  wau: n().openapi({ description: "Distinct active users in the 7 days ending `asOf`" }),
  mau: n().openapi({ description: "… in the 30 days ending `asOf`" }),
};

export const SeriesPointSchema = z
  .object({
    period: z.string().openapi({ example: "2024-W10" }),
    start: z.string(),
    end: z.string(),
    ...FlowFields,
    ...StockFields,
  })
  .openapi("StatsPeriod");

export const StatsReportSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    granularity: GranularitySchema,
    timeZone: z.literal("UTC"),
    series: z.array(SeriesPointSchema),
    totals: z
      .object(FlowFields)
      .openapi({ description: "Sums over the range; activeUsers is distinct over the whole range" }),
    gauges: z
      .object({ asOf: z.string(), ...StockFields, ...Dau })
      .openapi({ description: "Levels at the end of `to`" }),
  })
  .openapi("StatsReport");

export const UsageItemSchema = z
  .object({
    tenantId: z.string(),
    slug: z.string(),
    name: z.string(),
    status: z.enum(["active", "suspended"]),
    plan: z.string(),
    ...FlowFields,
    ...StockFields,
    ...Dau,
  })
  .openapi("TenantUsage");

export const UsagePageSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    items: z.array(UsageItemSchema),
    nextCursor: z.string().nullable(),
    unavailable: z
      .array(z.object({ tenantId: z.string(), slug: z.string(), error: z.string() }))
      .openapi({ description: "Tenants of this page whose database could not be read; retry later" }),
  })
  .openapi("UsagePage");

export const TenantUsageReportSchema = StatsReportSchema.extend({ tenantId: z.string(), slug: z.string() }).openapi(
  "TenantUsageReport",
);

export const SlugParamSchema = z.object({ slug: z.string().min(1).max(40) });

export type StatsReport = z.infer<typeof StatsReportSchema>;
export type UsageItem = z.infer<typeof UsageItemSchema>;
export type UsagePage = z.infer<typeof UsagePageSchema>;
export type UsageFigures = Omit<UsageItem, "tenantId" | "slug" | "name" | "status" | "plan">;

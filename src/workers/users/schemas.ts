import { z } from "@hono/zod-openapi";
import { lineText, multilineText } from "../../lib/text";
import { UserSettingsPatchSchema, UserSettingsSchema } from "../../lib/user-settings";

/** Profile fields a user may change. Role, status, tenant and the like are not among them. */
export const ProfilePatchSchema = z
  .object({
    nickname: lineText(64).optional(),
    avatarFileId: z.string().min(1).max(64).nullable().optional(),
    bio: multilineText(500).optional(),
    locale: z
      .string()
      .regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/, "a BCP 47 tag like en or zh-Hans-CN")
      .or(z.literal(""))
      .optional(),
    gender: lineText(32, 0).optional(),
    birthday: z.iso.date().nullable().optional(),
    region: lineText(64, 0).optional(),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, "nothing to update")
  .openapi("ProfilePatch");

export const PublicUserSchema = z
  .object({
    id: z.string(),
    username: z.string().nullable(),
    nickname: z.string(),
    avatarFileId: z.string().nullable(),
    bio: z.string(),
    locale: z.string(),
    region: z.string(),
    followers: z.number().int().optional(),
    following: z.number().int().optional(),
    /** GET /v1/users/{id} only: null when the user's privacy hides it from the viewer. */
    presence: z
      .object({
        status: z.enum(["online", "away", "offline"]),
        lastSeenAt: z.string().nullable().describe("When the last device disconnected (ISO 8601)"),
      })
      .nullable()
      .optional()
      .openapi("Presence"),
    /** GET /v1/users/{id} only: the user's VIP level now and its badge; null when not a member. */
    vip: z
      .object({ level: z.number().int(), name: z.string().nullable(), badge: z.string().nullable() })
      .nullable()
      .optional()
      .openapi("VipBadge"),
  })
  .openapi("User");

export const SettingsSchema = UserSettingsSchema.openapi("UserSettings");
export const SettingsPatchSchema = UserSettingsPatchSchema.openapi("UserSettingsPatch");
export const UserIdParamSchema = z.object({ id: z.string().min(1).max(64) });

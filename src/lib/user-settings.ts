import { z } from "zod";

/**
 * A user's settings. Privacy: whether search finds them, who may send friend requests
 * (`anyone`: accepted at once; `approval`: they decide; `nobody`), and who sees their presence
 * and last-seen time. Notifications: per-type switches (the notification service reads them).
 * Email: per-type opt-ins to the email channel, all off by default (security notices are mailed
 * by the auth service whatever these say), and `digest`: opted-in notifications arrive as at most
 * one mail an hour instead of one mail each (docs/notifications.md, "Email channel").
 */
export const UserSettingsSchema = z
  .object({
    privacy: z
      .object({
        searchable: z.boolean().default(true),
        friendRequests: z.enum(["anyone", "approval", "nobody"]).default("approval"),
        presence: z.enum(["everyone", "friends", "nobody"]).default("friends"),
      })
      .strict()
      .prefault({}),
    notifications: z
      .object({
        friendRequests: z.boolean().default(true),
        messages: z.boolean().default(true),
        mentions: z.boolean().default(true),
        follows: z.boolean().default(true),
        announcements: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    email: z
      .object({
        friendRequests: z.boolean().default(false),
        messages: z.boolean().default(false),
        mentions: z.boolean().default(false),
        follows: z.boolean().default(false),
        announcements: z.boolean().default(false),
        digest: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
  })
  .strict();
export type UserSettings = z.infer<typeof UserSettingsSchema>;
/** The email channel's switches (the notification consumer and the digest sweep read them). */
export type EmailSettings = UserSettings["email"];

type Defaulted = Record<string, z.ZodDefault<z.ZodType>>;

/**
 * A group as a patch takes it: every field optional and without its default. `.partial()` alone
 * is not enough: zod fills an omitted field's default, so a patch naming one field would reset
 * the group's others (a partial update turning search back on, or dropping an email opt-in).
 */
function patchOf<T extends Defaulted>(group: z.ZodObject<T>) {
  const shape = Object.fromEntries(Object.entries(group.shape).map(([k, field]) => [k, field.unwrap().optional()]));
  return z.strictObject(shape as { [K in keyof T]: z.ZodOptional<ReturnType<T[K]["unwrap"]>> }).optional();
}

export const UserSettingsPatchSchema = z
  .object({
    privacy: patchOf(UserSettingsSchema.shape.privacy.unwrap()),
    notifications: patchOf(UserSettingsSchema.shape.notifications.unwrap()),
    email: patchOf(UserSettingsSchema.shape.email.unwrap()),
  })
  .strict();
export type UserSettingsPatch = z.infer<typeof UserSettingsPatchSchema>;

/** Applies a patch: each group keeps every field the patch does not name. */
export function mergeSettings(base: UserSettings, patch: UserSettingsPatch): UserSettings {
  return UserSettingsSchema.parse({
    privacy: { ...base.privacy, ...patch.privacy },
    notifications: { ...base.notifications, ...patch.notifications },
    email: { ...base.email, ...patch.email },
  });
}

/** The settings of a new account (and of one whose stored settings predate a group). */
export const defaultSettings = (): UserSettings => UserSettingsSchema.parse({});

import { z } from "zod";

/**
 * A user's settings. Privacy: whether search finds them, who may send friend requests
 * (`anyone`: accepted at once; `approval`: they decide; `nobody`), and who sees their presence
 * and last-seen time. Notifications: per-type switches (the notification service reads them).
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
  })
  .strict();
export type UserSettings = z.infer<typeof UserSettingsSchema>;

export const UserSettingsPatchSchema = z
  .object({
    privacy: UserSettingsSchema.shape.privacy.unwrap().partial().optional(),
    notifications: UserSettingsSchema.shape.notifications.unwrap().partial().optional(),
  })
  .strict();
export type UserSettingsPatch = z.infer<typeof UserSettingsPatchSchema>;

export function mergeSettings(base: UserSettings, patch: UserSettingsPatch): UserSettings {
  return UserSettingsSchema.parse({
    privacy: { ...base.privacy, ...patch.privacy },
    notifications: { ...base.notifications, ...patch.notifications },
  });
}

export const defaultSettings = (): UserSettings => UserSettingsSchema.parse({});

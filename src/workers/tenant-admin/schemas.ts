import { z } from "@hono/zod-openapi";
import { lineText, multilineText } from "../../lib/text";
import { PERMISSION } from "../../lib/permissions";
import { CUSTOM_RANKS } from "../gateway/ranks";

export const PermissionSchema = z.string().regex(PERMISSION, "must be resource:action, with '*' wildcards");

export const AdminUserSchema = z
  .object({
    id: z.string(),
    nickname: z.string().nullable().openapi({ description: "The profile's nickname (null without a profile)" }),
    email: z.string().nullable(),
    username: z.string().nullable(),
    phone: z.string().nullable(),
    status: z.enum(["active", "suspended", "deleted"]),
    roles: z.array(z.string()),
    mfaEnabled: z.boolean(),
    createdAt: z.string().datetime(),
  })
  .openapi("AdminUser");

export const RoleSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    permissions: z.array(z.string()),
    rank: z
      .number()
      .int()
      .openapi({ description: "owner 100, admin 80, moderator 50, member 0, custom 1–99: who may act on whom" }),
    system: z.boolean(),
    createdAt: z.string().datetime(),
    updatedAt: z.string().datetime(),
  })
  .openapi("Role");

const RoleName = z.string().regex(/^[a-z][a-z0-9_-]{1,31}$/, "2–32 lowercase letters, digits, '_' or '-'");

const Rank = z
  .number()
  .int()
  .min(CUSTOM_RANKS.min)
  .max(CUSTOM_RANKS.max)
  .openapi({ description: "1–99 and below your own rank" });

export const CreateRoleSchema = z
  .object({
    name: RoleName,
    description: multilineText(200).default(""),
    permissions: z.array(PermissionSchema).max(100),
    rank: Rank.default(CUSTOM_RANKS.default),
  })
  .strict()
  .openapi("CreateRole");

export const UpdateRoleSchema = z
  .object({
    name: RoleName.optional(),
    description: multilineText(200).optional(),
    permissions: z.array(PermissionSchema).max(100).optional(),
    rank: Rank.optional(),
  })
  .strict()
  .openapi("UpdateRole");

export const SetRolesSchema = z
  .object({ roles: z.array(RoleName).max(20) })
  .strict()
  .openapi("SetUserRoles");

export const ApiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    permissions: z.array(z.string()),
    createdBy: z.string().nullable().openapi({
      description:
        "Who made the key: a user id, or `key:<id>` for a key minted with another key. The key acts within what that user (at the end of the chain) holds now.",
    }),
    rank: z.number().int().openapi({
      description:
        "The creator's rank when the key was made; the key acts with the lower of it and its creator's rank now",
    }),
    createdAt: z.string().datetime(),
    lastUsedAt: z.string().datetime().nullable(),
  })
  .openapi("ApiKey");

export const CreatedApiKeySchema = ApiKeySchema.extend({
  key: z.string().openapi({ description: "Shown once; store it now" }),
}).openapi("CreatedApiKey");

export const CreateApiKeySchema = z
  .object({ name: lineText(100), permissions: z.array(PermissionSchema).min(1).max(100) })
  .strict()
  .openapi("CreateApiKey");

export const IdParamSchema = z.object({ id: z.string().min(1).max(64) });

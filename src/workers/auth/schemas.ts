import { z } from "@hono/zod-openapi";
import { lineText } from "../../lib/text";
import { singleScript } from "../../lib/username-skeleton";
import { MAX_PASSWORD } from "../../lib/password-policy";

/** Device a session belongs to; one session per device. */
export const DeviceSchema = z
  .object({
    id: z.string().min(1).max(128),
    name: lineText(128, 0).default(""),
    platform: z
      .string()
      .regex(/^[a-z0-9_-]{1,32}$/, "lowercase letters, digits, '-' or '_'")
      .default("web"),
  })
  .openapi("Device");

// Length is checked in full by the password policy; this only bounds the work per request.
const Password = z
  .string()
  .min(1)
  .max(MAX_PASSWORD * 4);

export const RegisterSchema = z
  .object({
    email: z.email().max(254).optional(),
    username: z
      .string()
      .trim()
      .regex(/^[\p{L}\p{N}_.-]{3,32}$/u, "3–32 letters, digits, '_', '.', '-'")
      .refine(singleScript, "must not mix scripts (e.g. Latin with Cyrillic)")
      .optional(),
    phone: z
      .string()
      .regex(/^\+[1-9]\d{6,14}$/, "E.164, e.g. +14155550100")
      .optional(),
    password: Password,
    device: DeviceSchema.optional(),
  })
  .strict()
  .refine((v) => v.email !== undefined || v.username !== undefined, {
    message: "email or username is required",
    path: ["email"],
  })
  .openapi("Register");

export const LoginSchema = z
  .object({
    identifier: z.string().trim().min(1).max(254),
    password: Password,
    device: DeviceSchema.optional(),
    deviceToken: z
      .string()
      .max(2048)
      .optional()
      .openapi({ description: "The deviceToken of an earlier sign-in on this device" }),
    cancelDeletion: z
      .boolean()
      .optional()
      .openapi({ description: "Cancel the account's pending deletion and sign in (else 409 deletion_pending)" }),
  })
  .strict()
  .openapi("Login");

export const DeleteMeSchema = z
  .object({
    password: Password,
    code: z
      .string()
      .trim()
      .min(6)
      .max(32)
      .optional()
      .openapi({ description: "A TOTP code or an unused recovery code, required when MFA is on" }),
  })
  .strict()
  .openapi("DeleteMe");

export const MfaVerifySchema = z
  .object({ mfaToken: z.string().min(1).max(4096), code: z.string().trim().min(6).max(32) })
  .strict()
  .openapi("MfaVerify");
export const RefreshSchema = z
  .object({ refreshToken: z.string().min(1).max(512) })
  .strict()
  .openapi("Refresh");
export const PasswordChangeSchema = z
  .object({ currentPassword: Password, newPassword: Password })
  .strict()
  .openapi("PasswordChange");
export const PasswordAndCodeSchema = z
  .object({ password: Password, code: z.string().trim().min(6).max(32) })
  .strict()
  .openapi("PasswordAndCode");

export const TokensSchema = z
  .object({
    accessToken: z.string(),
    refreshToken: z.string(),
    expiresIn: z.number().int().openapi({ description: "Access token lifetime in seconds" }),
    sessionId: z.string(),
    deviceToken: z.string().optional().openapi({
      description:
        "On sign-in (not refresh): keep it on the device and send it with later sign-ins; failed attempts elsewhere then never lock this device out",
    }),
  })
  .openapi("Tokens");

export const VerificationPendingSchema = z
  .object({ userId: z.string(), emailVerification: z.literal("required") })
  .openapi("VerificationPending");

export const MfaRequiredSchema = z
  .object({ mfaRequired: z.literal(true), mfaToken: z.string() })
  .openapi("MfaRequired");

export const SessionSchema = z
  .object({
    id: z.string(),
    current: z.boolean(),
    device: z.object({ id: z.string(), name: z.string(), platform: z.string() }),
    ip: z.string(),
    userAgent: z.string(),
    createdAt: z.string().datetime(),
    lastUsedAt: z.string().datetime(),
    expiresAt: z.string().datetime(),
  })
  .openapi("Session");

export const MeSchema = z
  .object({
    id: z.string(),
    email: z.string().nullable(),
    emailVerified: z.boolean().openapi({ description: "Whether the address was proven by an emailed link or code" }),
    username: z.string().nullable(),
    phone: z.string().nullable(),
    status: z.string(),
    roles: z.array(z.string()),
    mfaEnabled: z.boolean(),
    createdAt: z.string().datetime(),
    nickname: z.string(),
    avatarFileId: z.string().nullable(),
    bio: z.string(),
    locale: z.string(),
    gender: z.string(),
    birthday: z.string().nullable(),
    region: z.string(),
  })
  .openapi("Me");

export const TotpSetupSchema = z
  .object({ secret: z.string(), otpauthUri: z.string(), qrSvg: z.string() })
  .openapi("TotpSetup");
export const RecoveryCodesSchema = z.object({ recoveryCodes: z.array(z.string()) }).openapi("RecoveryCodes");

import { z } from "@hono/zod-openapi";
import { MAX_PASSWORD } from "../../lib/password-policy";
import { DeviceSchema } from "./schemas";

const Email = z.email().max(254).openapi({ example: "ada@example.com" });
// The length is in the pattern too, so generators that honour patterns (the fuzz suite's, a
// client's) make valid tokens instead of filtering for length.
const Token = z
  .string()
  .min(16)
  .max(200)
  .regex(/^[A-Za-z0-9_-]{16,200}$/, "the token from the emailed link")
  .openapi({ description: "The token from the emailed link (its `token` query parameter)" });
const Code = z
  .string()
  .regex(/^\d{6}$/, "6 digits")
  .openapi({ description: "The 6-digit code from the email", example: "123456" });
const NewPassword = z
  .string()
  .min(1)
  .max(MAX_PASSWORD * 4);

/** `{ token }` or `{ email, code }`: a link or a code from the same mail prove the same thing. */
const proof = <T extends z.ZodRawShape>(extra: T) =>
  z.union([z.object({ token: Token, ...extra }).strict(), z.object({ email: Email, code: Code, ...extra }).strict()]);

export const EmailOnlySchema = z.object({ email: Email }).strict().openapi("EmailRequest");
export const EmailProofSchema = proof({}).openapi("EmailProof");
export const ResetConfirmSchema = proof({ newPassword: NewPassword }).openapi("PasswordResetConfirm");
export const EmailCodeSignInSchema = z
  .object({ email: Email, code: Code, device: DeviceSchema.optional() })
  .strict()
  .openapi("EmailCodeSignIn");
export const EmailChangeSchema = z
  .object({
    newEmail: Email,
    password: z
      .string()
      .min(1)
      .max(MAX_PASSWORD * 4),
  })
  .strict()
  .openapi("EmailChange");
export const TokenOnlySchema = z.object({ token: Token }).strict().openapi("EmailLinkToken");

/** The one answer of every request for a mail, whether or not an account has the address. */
export const MailAcceptedSchema = z
  .object({ status: z.literal("accepted"), message: z.string() })
  .openapi("MailAccepted");
export const ACCEPTED = {
  status: "accepted" as const,
  message: "If an account can receive it, an email is on its way.",
};

export const EmailVerifiedSchema = z.object({ emailVerified: z.literal(true) }).openapi("EmailVerified");
export const EmailAddressSchema = z.object({ email: z.string().nullable() }).openapi("EmailAddress");

import { securityClient } from "../gateway/middleware/audit";
import { createRoute, type RouteConfig } from "@hono/zod-openapi";
import type { Context } from "hono";
import { scopeOf, type AppEnv } from "../gateway/context";
import { createRouter, jsonBody, jsonResponse, problemResponses, traceparentOf } from "../gateway/http";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import { clientAddress, rateLimit } from "../gateway/middleware/rate-limit";
import { confirmEmailChange, requestEmailChange, undoEmailChange } from "./email-change";
import { requestEmailCode, verifyEmailCode } from "./email-code";
import {
  ACCEPTED,
  EmailAddressSchema,
  EmailChangeSchema,
  EmailCodeSignInSchema,
  EmailOnlySchema,
  EmailProofSchema,
  EmailVerifiedSchema,
  MailAcceptedSchema,
  ResetConfirmSchema,
  TokenOnlySchema,
} from "./email-schemas";
import { resendVerification, verifyEmail } from "./email-verification";
import { confirmPasswordReset, requestPasswordReset } from "./password-reset";
import { MfaRequiredSchema, TokensSchema } from "./schemas";

/** Accounts by email: verification, password reset, sign-in codes, change of address (docs/identity.md). */
export const emailRoutes = createRouter();

const tags = ["Auth"];
const open: [] = [];
const bearer = [{ bearer: [] }];
const client = (c: Context<AppEnv>) => ({
  ip: clientAddress(c.req, c.env),
  userAgent: c.req.header("user-agent") ?? "",
  traceparent: traceparentOf(c),
});
const accepted = jsonResponse(MailAcceptedSchema, "Accepted: a mail goes out if an account can receive it");
const tokenProblems = ["invalid_email_token", "account_suspended", "auth_unavailable"] as const;

/**
 * A POST anyone may make, under the auth rate limit: how an address asks for mail and how a
 * mailed link or code comes back. The keys keep the order the OpenAPI document lists them in.
 */
function openPost<R extends Omit<RouteConfig, "method" | "security" | "tags" | "middleware">>(route: R) {
  const { path, operationId, summary, ...rest } = route;
  return createRoute({
    method: "post",
    path,
    operationId,
    security: open,
    tags,
    summary,
    middleware: [rateLimit("auth")],
    ...rest,
  });
}

emailRoutes.openapi(
  openPost({
    path: "/auth/password/reset",
    operationId: "requestPasswordReset",
    summary: "Email a password reset link and code (the same answer whether or not the account exists)",
    request: { body: jsonBody(EmailOnlySchema) },
    responses: { 202: accepted, ...problemResponses("auth_unavailable") },
  }),
  async (c) => {
    await requestPasswordReset(scopeOf(c), c.req.valid("json").email, client(c));
    return c.json(ACCEPTED, 202);
  },
);

emailRoutes.openapi(
  openPost({
    path: "/auth/password/reset/confirm",
    operationId: "confirmPasswordReset",
    summary: "Set a new password with the emailed link token or code; every session is signed out",
    request: { body: jsonBody(ResetConfirmSchema) },
    responses: { 204: { description: "The password is set" }, ...problemResponses(...tokenProblems, "weak_password") },
  }),
  async (c) => {
    const { newPassword, ...proof } = c.req.valid("json");
    await confirmPasswordReset(scopeOf(c), proof, newPassword, securityClient(c));
    return c.body(null, 204);
  },
);

emailRoutes.openapi(
  openPost({
    path: "/auth/email/verify",
    operationId: "verifyEmail",
    summary: "Verify the account's email address with the emailed link token or code",
    request: { body: jsonBody(EmailProofSchema) },
    responses: { 200: jsonResponse(EmailVerifiedSchema, "Verified"), ...problemResponses(...tokenProblems) },
  }),
  async (c) => {
    await verifyEmail(scopeOf(c), c.req.valid("json"));
    return c.json({ emailVerified: true as const }, 200);
  },
);

emailRoutes.openapi(
  createRoute({
    method: "post",
    path: "/auth/email/verify/resend",
    operationId: "resendEmailVerification",
    security: bearer,
    tags,
    summary: "Send the verification email again",
    middleware: signedIn(),
    responses: {
      202: accepted,
      ...problemResponses(
        "user_required",
        "account_inactive",
        "email_required",
        "email_already_verified",
        "sign_in_method_disabled",
        "auth_unavailable",
      ),
    },
  }),
  async (c) => {
    await resendVerification(scopeOf(c), requireUser(c.get("principal")).userId, client(c));
    return c.json(ACCEPTED, 202);
  },
);

emailRoutes.openapi(
  openPost({
    path: "/auth/email-code",
    operationId: "requestEmailCode",
    summary: "Email a sign-in code (signIn.emailCode; the same answer whether or not the account exists)",
    request: { body: jsonBody(EmailOnlySchema) },
    responses: { 202: accepted, ...problemResponses("sign_in_method_disabled", "auth_unavailable") },
  }),
  async (c) => {
    await requestEmailCode(scopeOf(c), c.req.valid("json").email, client(c));
    return c.json(ACCEPTED, 202);
  },
);

emailRoutes.openapi(
  openPost({
    path: "/auth/email-code/verify",
    operationId: "verifyEmailCode",
    summary: "Sign in with an emailed code",
    request: { body: jsonBody(EmailCodeSignInSchema) },
    responses: {
      200: {
        description: "Signed in, or an MFA step is required",
        content: { "application/json": { schema: TokensSchema.or(MfaRequiredSchema) } },
      },
      ...problemResponses(
        ...tokenProblems,
        "sign_in_method_disabled",
        "session_limit",
        "email_not_verified",
        "deletion_pending",
      ),
    },
  }),
  async (c) => {
    const r = await verifyEmailCode(scopeOf(c), c.req.valid("json"), client(c));
    return c.json(r.kind === "mfa" ? { mfaRequired: true as const, mfaToken: r.mfaToken } : r.tokens, 200);
  },
);

emailRoutes.openapi(
  createRoute({
    method: "post",
    path: "/me/email",
    operationId: "requestEmailChange",
    security: bearer,
    tags: ["Account"],
    summary: "Change the email address: confirmed from the new address, undoable from the old one for 72 hours",
    middleware: signedIn(),
    request: { body: jsonBody(EmailChangeSchema) },
    responses: {
      202: accepted,
      ...problemResponses(
        "user_required",
        "account_inactive",
        "invalid_credentials",
        "email_unchanged",
        "auth_unavailable",
      ),
    },
  }),
  async (c) => {
    const userId = requireUser(c.get("principal")).userId;
    await requestEmailChange(scopeOf(c), userId, c.req.valid("json"), traceparentOf(c));
    return c.json(ACCEPTED, 202);
  },
);

emailRoutes.openapi(
  openPost({
    path: "/auth/email/change/confirm",
    operationId: "confirmEmailChange",
    summary: "Apply a change of address with the link sent to the new address",
    request: { body: jsonBody(TokenOnlySchema) },
    responses: {
      200: jsonResponse(EmailAddressSchema, "The account's address now"),
      ...problemResponses(...tokenProblems, "email_taken"),
    },
  }),
  async (c) =>
    c.json({ email: await confirmEmailChange(scopeOf(c), c.req.valid("json").token, securityClient(c)) }, 200),
);

emailRoutes.openapi(
  openPost({
    path: "/auth/email/change/undo",
    operationId: "undoEmailChange",
    summary: "Undo a change of address with the link sent to the old address; every session is signed out",
    request: { body: jsonBody(TokenOnlySchema) },
    responses: {
      200: jsonResponse(EmailAddressSchema, "The account's address now"),
      ...problemResponses(...tokenProblems, "email_taken"),
    },
  }),
  async (c) => c.json({ email: await undoEmailChange(scopeOf(c), c.req.valid("json").token, securityClient(c)) }, 200),
);

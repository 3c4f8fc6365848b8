import { recordSecurityEvent, securityClient } from "../gateway/middleware/audit";
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import { scopeOf, type AppEnv } from "../gateway/context";
import { createRouter, jsonResponse, problemResponses, jsonBody, traceparentOf } from "../gateway/http";
import { clientAddress, rateLimit } from "../gateway/middleware/rate-limit";
import {
  LoginSchema,
  MfaRequiredSchema,
  MfaVerifySchema,
  PasswordChangeSchema,
  RefreshSchema,
  RegisterSchema,
  TokensSchema,
  VerificationPendingSchema,
} from "./schemas";
import * as svc from "./service";
import { refresh } from "./tokens";
import { hubStub } from "../../durable/protocol/stubs";

/** Sign-up, sign-in, MFA step, token refresh, logout and password change: /v1/auth/*. */
export const authRoutes = createRouter();

const tags = ["Auth"];
const client = (c: Context<AppEnv>): svc.Client => ({
  ip: clientAddress(c.req, c.env),
  userAgent: c.req.header("user-agent") ?? "",
  traceparent: traceparentOf(c),
});
const security = [{ bearer: [] }];
authRoutes.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
  type: "http",
  scheme: "bearer",
  bearerFormat: "JWT",
});

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/auth/register",
    operationId: "register",
    security: [],
    tags,
    summary: "Create an account and sign in",
    description:
      "With `signIn.emailVerification: required` the account is created without a session (202): " +
      "the client signs in once the emailed link or code has verified the address.",
    middleware: [rateLimit("auth")],
    request: { body: jsonBody(RegisterSchema) },
    responses: {
      201: jsonResponse(TokensSchema, "Signed in"),
      202: jsonResponse(VerificationPendingSchema, "Created; verify the email address, then sign in"),
      ...problemResponses("weak_password", "registration_closed", "account_unavailable", "email_required"),
    },
  }),
  async (c) => {
    const { userId, tokens } = await svc.register(scopeOf(c), c.req.valid("json"), client(c));
    if (!tokens) return c.json({ userId, emailVerification: "required" as const }, 202);
    return c.json(tokens, 201);
  },
);

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/auth/login",
    operationId: "login",
    security: [],
    tags,
    summary: "Sign in with email or username and password",
    middleware: [rateLimit("auth")],
    request: { body: jsonBody(LoginSchema) },
    responses: {
      200: {
        description: "Signed in, or an MFA step is required",
        content: { "application/json": { schema: TokensSchema.or(MfaRequiredSchema) } },
      },
      ...problemResponses(
        "invalid_credentials",
        "account_suspended",
        "session_limit",
        "email_not_verified",
        "deletion_pending",
      ),
    },
  }),
  async (c) => {
    const r = await svc.login(scopeOf(c), c.req.valid("json"), client(c));
    return c.json(r.kind === "mfa" ? { mfaRequired: true as const, mfaToken: r.mfaToken } : r.tokens, 200);
  },
);

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/auth/mfa/verify",
    operationId: "verifyMfa",
    security: [],
    tags,
    summary: "Complete an MFA sign-in with a TOTP or recovery code",
    middleware: [rateLimit("auth")],
    request: { body: jsonBody(MfaVerifySchema) },
    responses: {
      200: jsonResponse(TokensSchema, "Signed in"),
      ...problemResponses("invalid_mfa_code", "invalid_token", "deletion_pending"),
    },
  }),
  async (c) => c.json(await svc.verifyMfa(scopeOf(c), c.req.valid("json"), client(c)), 200),
);

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/auth/refresh",
    operationId: "refreshTokens",
    security: [],
    tags,
    summary: "Rotate a refresh token (single use) for a new token pair",
    middleware: [rateLimit("auth")],
    request: { body: jsonBody(RefreshSchema) },
    responses: { 200: jsonResponse(TokensSchema, "New tokens"), ...problemResponses("invalid_refresh_token") },
  }),
  async (c) => c.json(await refresh(scopeOf(c), c.req.valid("json").refreshToken), 200),
);

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/auth/logout",
    operationId: "logout",
    tags,
    security,
    summary: "Sign out this session",
    middleware: signedIn(),
    responses: { 204: { description: "Signed out" }, ...problemResponses("user_required") },
  }),
  async (c) => {
    const p = requireUser(c.get("principal"));
    await hubStub(c.env, c.get("tenant").id, p.userId).revokeSession(p.sessionId, "logout");
    return c.body(null, 204);
  },
);

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/auth/password",
    operationId: "changePassword",
    tags,
    security,
    summary: "Change the password; other sessions are signed out",
    middleware: signedIn(),
    request: { body: jsonBody(PasswordChangeSchema) },
    responses: {
      204: { description: "Changed" },
      ...problemResponses("weak_password", "invalid_credentials", "user_required"),
    },
  }),
  async (c) => {
    const p = requireUser(c.get("principal"));
    const body = c.req.valid("json");
    await svc.changePassword(scopeOf(c), p.userId, p.sessionId, body.currentPassword, body.newPassword);
    await recordSecurityEvent(c.get("db"), p.userId, "passwordChanged", securityClient(c));
    return c.body(null, 204);
  },
);

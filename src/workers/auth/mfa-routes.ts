import { recordSecurityEvent, securityClient } from "../gateway/middleware/audit";
import { scopeOf } from "../gateway/context";
import { createRoute } from "@hono/zod-openapi";
import type { UserRow } from "../../db/tenant/schema";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import { createRouter, jsonResponse, problemResponses, jsonBody } from "../gateway/http";
import { disableTotp, enableTotp, regenerateRecoveryCodes, setupTotp } from "./mfa";
import { PasswordAndCodeSchema, RecoveryCodesSchema, TotpSetupSchema } from "./schemas";
import { checkSecondFactor } from "./service";

/** TOTP enrolment and recovery codes: /v1/auth/mfa/*. */
export const mfaRoutes = createRouter();
const tags = ["MFA"];
const security = [{ bearer: [] }];
const mw = signedIn();

mfaRoutes.openapi(
  createRoute({
    method: "post",
    path: "/auth/mfa/totp/setup",
    operationId: "setUpTotp",
    tags,
    security,
    summary: "Start TOTP enrolment",
    middleware: mw,
    responses: {
      200: jsonResponse(TotpSetupSchema, "Secret, otpauth URI and QR code"),
      ...problemResponses("user_required", "user_not_found", "mfa_already_enabled"),
    },
  }),
  async (c) => c.json(await setupTotp(scopeOf(c), requireUser(c.get("principal")).userId), 200),
);

mfaRoutes.openapi(
  createRoute({
    method: "post",
    path: "/auth/mfa/totp/enable",
    operationId: "enableTotp",
    tags,
    security,
    summary: "Confirm enrolment with the password and a code; returns recovery codes once",
    middleware: mw,
    request: { body: jsonBody(PasswordAndCodeSchema) },
    responses: {
      200: jsonResponse(RecoveryCodesSchema, "Recovery codes"),
      ...problemResponses(
        "invalid_credentials",
        "user_required",
        "user_not_found",
        "mfa_already_enabled",
        "mfa_not_set_up",
      ),
    },
  }),
  async (c) => {
    const { password, code } = c.req.valid("json");
    const userId = requireUser(c.get("principal")).userId;
    const recoveryCodes = await enableTotp(scopeOf(c), userId, password, code);
    await recordSecurityEvent(c.get("db"), userId, "mfaEnabled", securityClient(c));
    return c.json({ recoveryCodes }, 200);
  },
);

mfaRoutes.openapi(
  createRoute({
    method: "post",
    path: "/auth/mfa/totp/disable",
    operationId: "disableTotp",
    tags,
    security,
    summary: "Disable TOTP (password and a current code required)",
    middleware: mw,
    request: { body: jsonBody(PasswordAndCodeSchema) },
    responses: {
      204: { description: "Disabled" },
      ...problemResponses("invalid_credentials", "user_required", "user_not_found", "mfa_not_enabled"),
    },
  }),
  async (c) => {
    const { password, code } = c.req.valid("json");
    const s = scopeOf(c);
    const userId = requireUser(c.get("principal")).userId;
    await disableTotp(s, userId, password, code, (u: UserRow, x: string) => checkSecondFactor(s, u, x));
    await recordSecurityEvent(s.db, userId, "mfaDisabled", securityClient(c));
    return c.body(null, 204);
  },
);

mfaRoutes.openapi(
  createRoute({
    method: "post",
    path: "/auth/mfa/recovery-codes",
    operationId: "regenerateRecoveryCodes",
    tags,
    security,
    summary: "Replace the recovery codes (password and a current code required)",
    middleware: mw,
    request: { body: jsonBody(PasswordAndCodeSchema) },
    responses: {
      200: jsonResponse(RecoveryCodesSchema, "New recovery codes"),
      ...problemResponses("invalid_credentials", "user_required", "user_not_found", "mfa_not_enabled"),
    },
  }),
  async (c) => {
    const { password, code } = c.req.valid("json");
    const s = scopeOf(c);
    const userId = requireUser(c.get("principal")).userId;
    const codes = await regenerateRecoveryCodes(s, userId, password, code, (u: UserRow, x: string) =>
      checkSecondFactor(s, u, x),
    );
    await recordSecurityEvent(s.db, userId, "recoveryCodesRegenerated", securityClient(c));
    return c.json({ recoveryCodes: codes }, 200);
  },
);

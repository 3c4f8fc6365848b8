import { createRoute, z } from "@hono/zod-openapi";
import { profileOf } from "../../db/tenant/profiles";
import { findUserById, ownAccount, rolesOfUser } from "../../db/tenant/users";
import { AppError } from "../../lib/errors";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import { createRouter, jsonResponse, problemResponses } from "../gateway/http";
import { MeSchema, SessionSchema } from "./schemas";
import { sessionItems } from "./session-view";
import { hubStub } from "../../durable/protocol/stubs";

/** The signed-in user's account and device sessions: /v1/me, /v1/auth/sessions*. */
export const accountRoutes = createRouter();
const security = [{ bearer: [] }];
const mw = signedIn();

accountRoutes.openapi(
  createRoute({
    method: "get",
    path: "/me",
    operationId: "getMe",
    tags: ["Account"],
    security,
    summary: "The signed-in user",
    middleware: mw,
    responses: { 200: jsonResponse(MeSchema, "The user"), ...problemResponses("user_required") },
  }),
  async (c) => {
    const p = requireUser(c.get("principal"));
    const db = c.get("db");
    const [user, roles, profile] = await Promise.all([
      findUserById(db, p.userId),
      rolesOfUser(db, p.userId),
      profileOf(db, p.userId),
    ]);
    if (!user) throw new AppError("account_inactive", "The account no longer exists.");
    return c.json(
      {
        ...ownAccount(user, roles),
        nickname: profile?.nickname ?? "",
        avatarFileId: profile?.avatarFileId ?? null,
        bio: profile?.bio ?? "",
        locale: profile?.locale ?? "",
        gender: profile?.gender ?? "",
        birthday: profile?.birthday ?? null,
        region: profile?.region ?? "",
      },
      200,
    );
  },
);

accountRoutes.openapi(
  createRoute({
    method: "get",
    path: "/auth/sessions",
    operationId: "listSessions",
    tags: ["Account"],
    security,
    summary: "This user's live sessions, most recently used first",
    middleware: mw,
    responses: {
      200: jsonResponse(z.object({ items: z.array(SessionSchema), nextCursor: z.null() }), "Sessions"),
      ...problemResponses("user_required"),
    },
  }),
  async (c) => {
    const p = requireUser(c.get("principal"));
    const sessions = await hubStub(c.env, c.get("tenant").id, p.userId).listSessions();
    // A user has at most maxSessions (≤ 100) sessions: one page always holds them all.
    const items = sessionItems(sessions, p.sessionId);
    return c.json({ items, nextCursor: null }, 200);
  },
);

accountRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/auth/sessions/{id}",
    operationId: "revokeSession",
    tags: ["Account"],
    security,
    summary: "Sign out one of this user's sessions",
    middleware: mw,
    request: { params: z.object({ id: z.string().max(64) }) },
    responses: { 204: { description: "Signed out" }, ...problemResponses("user_required", "session_not_found") },
  }),
  async (c) => {
    const p = requireUser(c.get("principal"));
    // Sessions are looked up in this user's own hub: another user's session id is simply unknown.
    const ok = await hubStub(c.env, c.get("tenant").id, p.userId).revokeSession(c.req.valid("param").id, "revoked");
    if (!ok) throw new AppError("session_not_found", "No such session.");
    return c.body(null, 204);
  },
);

accountRoutes.openapi(
  createRoute({
    method: "post",
    path: "/auth/sessions/revoke-others",
    operationId: "revokeOtherSessions",
    tags: ["Account"],
    security,
    summary: "Sign out every other session of this user",
    middleware: mw,
    responses: {
      200: jsonResponse(z.object({ revoked: z.number().int() }), "Count of sessions signed out"),
      ...problemResponses("user_required"),
    },
  }),
  async (c) => {
    const p = requireUser(c.get("principal"));
    const revoked = await hubStub(c.env, c.get("tenant").id, p.userId).revokeAll("revoked_others", p.sessionId);
    return c.json({ revoked }, 200);
  },
);

accountRoutes.openapi(
  createRoute({
    method: "get",
    path: "/auth/whoami",
    operationId: "whoAmI",
    tags: ["Account"],
    security,
    summary: "Who this credential is (token introspection, no database read)",
    middleware: mw,
    responses: {
      200: jsonResponse(
        z.object({
          kind: z.enum(["user", "api_key"]),
          tenantId: z.string(),
          userId: z.string().nullable(),
          sessionId: z.string().nullable(),
          keyId: z.string().nullable(),
        }),
        "The caller",
      ),
    },
  }),
  (c) => {
    const p = c.get("principal");
    const tenantId = c.get("tenant").id;
    return c.json(
      p.kind === "user"
        ? { kind: p.kind, tenantId, userId: p.userId, sessionId: p.sessionId, keyId: null }
        : { kind: p.kind, tenantId, userId: null, sessionId: null, keyId: p.keyId },
      200,
    );
  },
);

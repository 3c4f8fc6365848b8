import { createRoute } from "@hono/zod-openapi";
import { settingsOf } from "../../db/tenant/profiles";
import { GATEWAY_HEADERS } from "../../durable/realtime/types";
import { gatewayOf } from "../../durable/protocol/gateways";
import { isErrorCode } from "../../lib/error-codes";
import { AppError } from "../../lib/errors";
import { signToken, verifyToken, type TokenClaims } from "../../lib/jwt";
import { requireUser, signedIn, verifyAccessToken } from "../gateway/middleware/authn";
import { scopeOf, type TenantScope } from "../gateway/context";
import { createRouter, jsonResponse, problemResponses } from "../gateway/http";
import { audienceOf, issuerOf, tenantKeys, verificationKey } from "../tenancy/signing-keys";
import { rateLimit } from "../gateway/middleware/rate-limit";
import { TicketSchema } from "./schemas";
import { gatewayStub, hubStub } from "../../durable/protocol/stubs";

/** WebSocket tickets live this long, and are spent on first use. */
export const TICKET_TTL_SECONDS = 30;

/** Tickets and the WebSocket upgrade: /v1/realtime*. */
export const realtimeRoutes = createRouter();

realtimeRoutes.openapi(
  createRoute({
    method: "post",
    path: "/realtime/tickets",
    operationId: "createRealtimeTicket",
    tags: ["Realtime"],
    security: [{ bearer: [] }],
    middleware: signedIn(),
    summary: "A one-time, 30-second ticket to open a WebSocket from a browser (GET /v1/realtime?ticket=…)",
    responses: {
      201: jsonResponse(TicketSchema, "The ticket"),
      ...problemResponses("upgrade_required", "user_required"),
    },
  }),
  async (c) => {
    const tenant = c.get("tenant");
    const p = requireUser(c.get("principal"));
    const keys = await tenantKeys(scopeOf(c));
    const ticket = await signToken(
      keys.signer,
      "ticket",
      { sub: p.userId, tid: tenant.id, sid: p.sessionId },
      {
        issuer: issuerOf(tenant),
        audience: audienceOf(tenant),
        ttlSeconds: TICKET_TTL_SECONDS,
      },
    );
    return c.json({ ticket, expiresIn: TICKET_TTL_SECONDS }, 201);
  },
);

/** The verified identity of an upgrade: a ticket (spent by the hub) or a bearer access token. */
async function credential(s: TenantScope, req: Request): Promise<{ claims: TokenClaims; ticket: boolean }> {
  const { tenant } = s;
  const ticket = new URL(req.url).searchParams.get("ticket");
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "")?.[1];
  if (ticket) {
    const claims = await verifyToken(ticket, "ticket", (kid) => verificationKey(s, kid), {
      issuer: issuerOf(tenant),
      audience: audienceOf(tenant),
    });
    return { claims, ticket: true };
  }
  if (bearer && !bearer.startsWith("ck_")) return { claims: await verifyAccessToken(s, bearer), ticket: false };
  throw new AppError(
    "unauthenticated",
    "Open the socket with ?ticket=<ticket> or Authorization: Bearer <access token>.",
    {
      headers: { "www-authenticate": 'Bearer realm="canopy"' },
    },
  );
}

/**
 * The WebSocket upgrade. The tenant scope already refused browser Origins outside the tenant's
 * allowlist (403); here the credential is verified (401, never 101, without one), the user's hub
 * admits the session (live, a ticket spent once), and the upgrade goes to the user's gateway as
 * a fresh request whose identity headers the Worker sets itself, so nothing the client sends can
 * name another user or session.
 */
realtimeRoutes.get("/realtime", rateLimit("api"), async (c) => {
  const tenant = c.get("tenant");
  const { claims, ticket } = await credential(scopeOf(c), c.req.raw);
  if (claims.tid !== tenant.id || typeof claims.sid !== "string")
    throw new AppError("invalid_token", "The credential was not issued for this tenant.");
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket")
    throw new AppError("upgrade_required", "Expected a WebSocket upgrade (Upgrade: websocket).");
  const admitted = await hubStub(c.env, tenant.id, claims.sub).admit({
    tenantId: tenant.id,
    sessionId: claims.sid,
    ticket: ticket ? { id: claims.jti, expiresAt: claims.exp * 1000 + 60_000 } : undefined,
    // Who may see this user's presence (tenant DB); the hub keeps it for its fan-out.
    presencePrivacy: (await settingsOf(c.get("db"), claims.sub)).privacy.presence,
  });
  if (!admitted.ok) throw new AppError(admitted.code, admitted.detail);
  const rt = tenant.config.realtime;
  const gateway = gatewayOf(claims.sub, rt.gateways);
  const headers = new Headers({ upgrade: "websocket" });
  headers.set(GATEWAY_HEADERS.tenant, tenant.id);
  headers.set(GATEWAY_HEADERS.user, claims.sub);
  headers.set(GATEWAY_HEADERS.session, claims.sid);
  headers.set(GATEWAY_HEADERS.device, admitted.value.deviceId ?? "");
  headers.set(GATEWAY_HEADERS.index, String(gateway));
  // The tenant's caps, fixed for the connection's life in its attachment (a config change applies to new sockets).
  headers.set(GATEWAY_HEADERS.maxFrameBytes, String(rt.maxFrameBytes));
  headers.set(GATEWAY_HEADERS.framesPerSecond, String(rt.framesPerSecond));
  headers.set(GATEWAY_HEADERS.frameBurst, String(rt.frameBurst));
  const res = await gatewayStub(c.env, tenant.id, gateway).fetch(
    new Request("https://gateway.internal/connect", { headers }),
  );
  if (res.status !== 101 || !res.webSocket) {
    // The gateway answers a problem with a registered code (src/durable/realtime/sockets.ts).
    const body = await res
      .json<{ code?: string; detail?: string }>()
      .catch(() => ({ code: undefined, detail: undefined }));
    if (body.code && isErrorCode(body.code))
      throw new AppError(body.code, body.detail ?? "The connection was refused.");
    // No problem of the gateway's own: the runtime's answer for an object it could not run (at
    // the open-file limit, say). Not the client's fault, and it passes: 503 with Retry-After.
    throw new AppError("temporarily_unavailable", "The connection could not be opened; retry shortly.", {
      headers: { "retry-after": "2" },
    });
  }
  // A fresh response: the gateway's has immutable headers, and the middleware adds its own.
  return new Response(null, { status: 101, webSocket: res.webSocket });
});

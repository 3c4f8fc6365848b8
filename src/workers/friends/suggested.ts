import { createRoute, z } from "@hono/zod-openapi";
import { friendsOfFriends, sharedInterests } from "../../db/tenant/recommend";
import { hubStub } from "../../durable/protocol/stubs";
import { createRouter, jsonResponse, problemResponses } from "../gateway/http";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import { peers } from "./graph";
import { FriendSchema } from "./schemas";

/** People the caller may know: GET /v1/users/suggested. */
export const suggestedRoutes = createRouter();

const SuggestionSchema = z
  .object({
    user: FriendSchema.shape.user,
    mutualFriends: z.number().int(),
    reason: z.enum(["friends_of_friends", "shared_interests"]),
  })
  .openapi("UserSuggestion");

const SuggestionQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(50).default(20).openapi({ description: "How many, 1–50" }),
});

suggestedRoutes.openapi(
  createRoute({
    method: "get",
    path: "/users/suggested",
    operationId: "suggestedUsers",
    tags: ["Friends"],
    security: [{ bearer: [] }],
    middleware: signedIn(),
    summary: "Friends of friends (most mutual friends first), then users with shared interests",
    description:
      "Never the caller, a friend, a user blocked either way, or one with a pending request in or out (read live from the caller's hub); active users only.",
    request: { query: SuggestionQuerySchema },
    responses: {
      200: jsonResponse(z.object({ items: z.array(SuggestionSchema) }), "Suggestions"),
      ...problemResponses("user_required"),
    },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const { limit } = c.req.valid("query");
    const db = c.get("db");
    const live = await hubStub(c.env, c.get("tenant").id, me).suggestionExclusions();
    const exclude = [me, ...live.friends, ...live.blocked, ...live.pending];
    const [fof, shared] = await Promise.all([
      friendsOfFriends(db, me, live.friends, exclude, limit),
      sharedInterests(db, me, exclude, limit),
    ]);
    const seen = new Set(fof.map((r) => r.userId));
    const items = [
      ...fof.map((r) => ({ userId: r.userId, mutualFriends: r.mutualFriends, reason: "friends_of_friends" as const })),
      ...shared
        .filter((r) => !seen.has(r.userId))
        .map((r) => ({ userId: r.userId, mutualFriends: 0, reason: "shared_interests" as const })),
    ].slice(0, limit);
    const peer = await peers(
      db,
      items.map((i) => i.userId),
    );
    return c.json(
      { items: items.map((i) => ({ user: peer(i.userId), mutualFriends: i.mutualFriends, reason: i.reason })) },
      200,
    );
  },
);

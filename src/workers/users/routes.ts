import { isOwnReadyAvatar } from "../../db/tenant/files";
import { createRoute, z } from "@hono/zod-openapi";
import {
  blockedEitherWay,
  followCounts,
  profileOf,
  searchProfiles,
  settingsOf,
  updateProfile,
  updateSettings,
} from "../../db/tenant/profiles";
import { findUserById } from "../../db/tenant/users";
import { vipLevelQuery } from "../../db/tenant/vip";
import { vipBadge } from "../../lib/vip-access";
import { AppError } from "../../lib/errors";
import { searchQuery } from "../../lib/search-query";
import { scopeOf } from "../gateway/context";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import {
  createRouter,
  jsonResponse,
  PageQuerySchema,
  pageSchema,
  problemResponses,
  jsonBody,
  pagerFor,
} from "../gateway/http";
import {
  ProfilePatchSchema,
  PublicUserSchema,
  SettingsPatchSchema,
  SettingsSchema,
  UserIdParamSchema,
} from "./schemas";
import { moderateProfile } from "./profile-moderation";
import { ownProfile, presenceView, publicUser } from "./views";
import { hubStub } from "../../durable/protocol/stubs";

/** Profiles, settings, user lookup and search: /v1/me (PATCH), /v1/me/settings, /v1/users*. */
export const userRoutes = createRouter();
const tags = ["Users"];
const security = [{ bearer: [] }];
const mw = signedIn();
const notFound = () => new AppError("user_not_found", "No such user.");

userRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/me",
    operationId: "updateMe",
    tags,
    security,
    summary: "Update the signed-in user's profile (partial)",
    middleware: mw,
    request: { body: jsonBody(ProfilePatchSchema) },
    responses: {
      200: jsonResponse(z.record(z.string(), z.unknown()), "The profile"),
      ...problemResponses("invalid_avatar", "user_required", "content_blocked"),
    },
  }),
  async (c) => {
    const p = requireUser(c.get("principal"));
    const db = c.get("db");
    // Nickname and bio pass the moderation hook (word list, then the classifier when enabled).
    const { patch, items } = await moderateProfile(scopeOf(c), p.userId, c.req.valid("json"));
    const user = await findUserById(db, p.userId);
    if (!user) throw notFound();
    if (patch.avatarFileId) {
      // Only the user's own, finished avatar upload can become the avatar.
      if (!(await isOwnReadyAvatar(db, patch.avatarFileId, p.userId)))
        throw new AppError("invalid_avatar", "avatarFileId must be one of your uploaded avatar files.");
    }
    await updateProfile(db, user, patch, Date.now(), items);
    return c.json(ownProfile((await profileOf(db, p.userId))!), 200);
  },
);

userRoutes.openapi(
  createRoute({
    method: "get",
    path: "/me/settings",
    operationId: "getMySettings",
    tags,
    security,
    summary: "Privacy and notification settings",
    middleware: mw,
    responses: { 200: jsonResponse(SettingsSchema, "Settings"), ...problemResponses("user_required") },
  }),
  async (c) => c.json(await settingsOf(c.get("db"), requireUser(c.get("principal")).userId), 200),
);

userRoutes.openapi(
  createRoute({
    method: "put",
    path: "/me/settings",
    operationId: "setMySettings",
    tags,
    security,
    summary: "Change settings; omitted fields keep their values",
    middleware: mw,
    request: { body: jsonBody(SettingsPatchSchema) },
    responses: { 200: jsonResponse(SettingsSchema, "Settings"), ...problemResponses("user_required") },
  }),
  async (c) => {
    const p = requireUser(c.get("principal"));
    const settings = await updateSettings(c.get("db"), p.userId, c.req.valid("json"));
    // The hub fans out presence per this setting: tell it now, not at the next connection.
    await hubStub(c.env, c.get("tenant").id, p.userId).setPresencePrivacy(settings.privacy.presence);
    return c.json(settings, 200);
  },
);

userRoutes.openapi(
  createRoute({
    method: "get",
    path: "/users/{id}",
    operationId: "getUser",
    tags,
    security,
    summary: "A user's public profile (404 if they blocked you, as for no user)",
    middleware: mw,
    request: { params: UserIdParamSchema },
    responses: {
      200: jsonResponse(PublicUserSchema, "The user"),
      ...problemResponses("user_required", "user_not_found"),
    },
  }),
  async (c) => {
    const p = requireUser(c.get("principal"));
    const db = c.get("db");
    const id = c.req.valid("param").id;
    const [user, profile] = await Promise.all([findUserById(db, id), profileOf(db, id)]);
    if (
      !user ||
      !profile ||
      user.status !== "active" ||
      (id !== p.userId && (await blockedEitherWay(db, id, p.userId)))
    )
      throw notFound();
    const [counts, settings, level] = await Promise.all([
      followCounts(db, id),
      settingsOf(db, id),
      vipLevelQuery(db, id, Date.now()),
    ]);
    // The target's hub applies its privacy (from the tenant DB) and the friend/block relation.
    const presence = await hubStub(c.env, c.get("tenant").id, id).presenceFor(p.userId, settings.privacy.presence);
    const vip = vipBadge(c.get("tenant").config, level[0]?.level ?? 0);
    return c.json({ ...publicUser(user, profile, counts), presence: presenceView(presence), vip }, 200);
  },
);

userRoutes.openapi(
  createRoute({
    method: "get",
    path: "/users",
    operationId: "searchUsers",
    tags,
    security,
    summary: "Search users by username or nickname (substring; CJK included)",
    middleware: mw,
    request: { query: PageQuerySchema.extend({ q: z.string().trim().min(1).max(64) }) },
    responses: { 200: jsonResponse(pageSchema(PublicUserSchema), "Matches"), ...problemResponses("user_required") },
  }),
  async (c) => {
    const p = requireUser(c.get("principal"));
    const q = c.req.valid("query");
    const pg = pagerFor(c, "id");
    const after = (await pg.after(q.cursor))?.[0];
    const rows = await searchProfiles(c.get("db"), p.userId, searchQuery(q.q, { lowercase: true }), q.limit + 1, after);
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.user.id]);
    return c.json({ items: page.map((r) => publicUser(r.user, r.profile)), nextCursor }, 200);
  },
);

import { z } from "@hono/zod-openapi";
import { lineText, multilineText } from "../../lib/text";

export const FriendRequestCreateSchema = z
  .object({ toUserId: z.string().min(1).max(64), message: multilineText(200).default("") })
  .strict()
  .openapi("FriendRequestCreate");

const Peer = z.object({
  id: z.string(),
  username: z.string().nullable(),
  nickname: z.string(),
  avatarFileId: z.string().nullable(),
});

export const FriendRequestSchema = z
  .object({
    id: z.string(),
    direction: z.enum(["incoming", "outgoing"]),
    user: Peer,
    message: z.string(),
    status: z.string(),
    createdAt: z.string().datetime(),
    expiresAt: z.string().datetime(),
  })
  .openapi("FriendRequest");

export const FriendSchema = z
  .object({ user: Peer, remark: z.string(), groupId: z.string().nullable(), since: z.string().datetime() })
  .openapi("Friend");

export const FriendPatchSchema = z
  .object({ remark: z.string().max(64).optional(), groupId: z.string().max(64).nullable().optional() })
  .strict()
  .refine((v) => v.remark !== undefined || v.groupId !== undefined, "nothing to update")
  .openapi("FriendPatch");

export const FriendGroupSchema = z
  .object({ id: z.string(), name: z.string(), createdAt: z.string().datetime() })
  .openapi("FriendGroup");
export const FriendGroupWriteSchema = z
  .object({ name: lineText(32) })
  .strict()
  .openapi("FriendGroupWrite");
export const BlockSchema = z.object({ user: Peer, since: z.string().datetime() }).openapi("Block");
export const IdParam = z.object({ id: z.string().min(1).max(64) });
export const UserIdParam = z.object({ userId: z.string().min(1).max(64) });

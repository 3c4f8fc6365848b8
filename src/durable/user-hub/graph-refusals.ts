import { refuse } from "../protocol/result";

/**
 * The friend graph's refusals, with the registry codes the API answers (a block by the other
 * side reads as no user at all, so it tells nothing).
 */
export const graphRefusals = {
  already_friends: refuse("already_friends", "You are already friends."),
  you_blocked: refuse("user_blocked", "You blocked this user; unblock them first."),
  not_found: refuse("user_not_found", "No such user."),
  friend_limit: refuse("friend_limit", "The friend limit is reached."),
  pending_limit: refuse("pending_limit", "Too many pending friend requests."),
  request_not_found: refuse("friend_request_not_found", "No such friend request."),
  request_not_pending: refuse("friend_request_closed", "The friend request is no longer pending."),
  not_friends: refuse("friend_not_found", "This user is not your friend."),
  group_not_found: refuse("friend_group_not_found", "No such friend group."),
  group_limit: refuse("friend_group_limit", "A user has at most 100 friend groups."),
} as const;

export type GraphRefusal = keyof typeof graphRefusals;

/**
 * The error registry: every code Canopy answers, once, with its one HTTP status, its title and a
 * one-line description. `AppError` takes a code from here (an unknown code is a type error) and
 * its status comes from here; Durable Object refusals and socket error frames use the same codes;
 * `docs/errors.md` is generated from this file (`npm run docs:errors`, checked by `npm run lint`);
 * the OpenAPI document lists, per operation and status, the codes it can answer.
 *
 * Grouped by area (the groups become the sections of docs/errors.md). A code never changes its
 * meaning or status once published; retire it instead.
 */
export interface ErrorSpec {
  readonly status: 400 | 401 | 403 | 404 | 405 | 408 | 409 | 410 | 413 | 415 | 422 | 426 | 429 | 500 | 502 | 503;
  readonly title: string;
  readonly description: string;
}

const e = (status: ErrorSpec["status"], title: string, description: string): ErrorSpec => ({ status, title, description });

export const errorGroups = {
  "Requests": {
    validation_failed: e(400, "Validation failed", "A body, query, path parameter or header fails its schema; `errors` lists each issue."),
    malformed_json: e(400, "Malformed JSON", "The body is not JSON."),
    invalid_body: e(400, "Invalid body", "A JSON body that is not strict UTF-8, nests deeper than 32 levels, or holds a NUL or a lone surrogate in a string (see security.md)."),
    invalid_parameter: e(400, "Invalid parameter", "The URL's path or query holds a percent-encoded control character (`%00`–`%1F`, `%7F`), on any route."),
    invalid_query: e(400, "Invalid search text", "A search text with control characters, lone surrogates, nothing searchable, or over 200 characters."),
    invalid_cursor: e(400, "Invalid cursor", "A pagination cursor this list did not issue (cursors are signed for their tenant and route)."),
    bad_request: e(400, "Bad request", "The request could not be read (a transport-level problem the runtime reported)."),
    body_timeout: e(408, "Body timeout", "The body stalled for 10 s, or a JSON body took over 30 s to arrive."),
    body_too_large: e(413, "Body too large", "The body exceeds the limit (checked on `Content-Length` and on the streamed bytes)."),
    unsupported_media_type: e(415, "Unsupported media type", "A JSON route got another content type."),
    route_not_found: e(404, "Route not found", "No such route."),
    method_not_allowed: e(405, "Method not allowed", "The path exists under other methods (see `Allow`)."),
    idempotency_in_progress: e(409, "Request in progress", "The first request with this `Idempotency-Key` is still running (`Retry-After: 1`)."),
    idempotency_conflict: e(409, "Idempotency conflict", "The `Idempotency-Key` was released while this request waited for it; retry."),
    idempotency_key_reused: e(422, "Idempotency key reused", "An `Idempotency-Key` reused with a different body."),
    rate_limited: e(429, "Too many requests", "A rate limit or a failure limit (sign-in, passwords, codes); see `Retry-After` and the `RateLimit` headers."),
  },
  "Tenants and the platform": {
    tenant_not_found: e(404, "Tenant not found", "No tenant in the host or `X-Tenant`, or it does not exist or was deleted."),
    tenant_suspended: e(403, "Tenant suspended", "The tenant is suspended."),
    origin_not_allowed: e(403, "Origin not allowed", "The request's `Origin` is not in the tenant's `allowedOrigins`."),
    admin_unauthorized: e(401, "Platform admin credential required", "Missing or wrong platform admin token."),
    tenant_exists: e(409, "Tenant exists", "The slug is taken (deleted tenants keep it until purged)."),
    tenant_deleted: e(409, "Tenant deleted", "Changing a deleted tenant."),
    tenant_not_deleted: e(409, "Tenant not deleted", "Purging a tenant that was not deleted first."),
    provisioning_failed: e(502, "Provisioning failed", "The tenant database could not be created; nothing was kept, retry."),
    tenant_not_ready: e(503, "Tenant not ready", "The tenant database has not been migrated yet."),
    dead_letter_not_found: e(404, "Dead letter not found", "No dead letter with this id (platform admin)."),
    not_replayable: e(409, "Not replayable", "The dead letter is not a valid CloudEvent; it can only be inspected."),
    invalid_range: e(400, "Invalid range", "Statistics: `from` after `to`, a day outside 2000-01-01 … 2199-12-31, or a range longer than the granularity allows."),
  },
  "Identity": {
    unauthenticated: e(401, "Unauthenticated", "No bearer credential."),
    invalid_token: e(401, "Invalid token", "A forged, tampered, expired, foreign or wrong-kind token; an `mfaToken` already redeemed."),
    session_revoked: e(401, "Session revoked", "The session was signed out, replaced, evicted or expired."),
    account_inactive: e(401, "Account inactive", "The token's user was suspended or deleted."),
    invalid_credentials: e(401, "Invalid credentials", "Unknown identifier or wrong password (indistinguishable); on routes that take the password and a code, either wrong."),
    invalid_mfa_code: e(401, "Invalid MFA code", "A wrong, expired or replayed second factor at sign-in (`/v1/auth/mfa/verify`)."),
    invalid_refresh_token: e(401, "Invalid refresh token", "The refresh token is unknown, expired or of a closed session."),
    refresh_token_reused: e(401, "Refresh token reused", "A rotated refresh token was used again; the whole session is signed out."),
    invalid_api_key: e(401, "Invalid API key", "Unknown or revoked API key."),
    api_key_revoked: e(401, "API key revoked", "The API key's creator is suspended or deleted, or a key up its chain was revoked (identity.md, API keys)."),
    ticket_used: e(401, "Ticket used", "A WebSocket ticket was already used (tickets are single-use)."),
    forbidden: e(403, "Forbidden", "A permission is missing."),
    privilege_escalation: e(403, "Privilege escalation", "Granting permissions the caller does not hold."),
    rank_too_low: e(403, "Rank too low", "Acting on a user whose rank is not below the caller's, or on a role at or above it (identity.md, Roles and ranks)."),
    user_required: e(403, "User required", "An API key on a user-only route."),
    account_suspended: e(403, "Account suspended", "Signing in to a suspended account (right password)."),
    registration_closed: e(403, "Registration closed", "The tenant does not accept sign-ups."),
    weak_password: e(400, "Weak password", "The password breaks the policy (length, common, contains an identifier)."),
    unknown_role: e(400, "Unknown role", "A role named in the body does not exist."),
    user_not_found: e(404, "User not found", "No such user in this tenant; also when either side blocked the other."),
    role_not_found: e(404, "Role not found", "No such role (the role in the path)."),
    session_not_found: e(404, "Session not found", "No such session of yours."),
    api_key_not_found: e(404, "API key not found", "No such live API key."),
    account_unavailable: e(409, "Account unavailable", "Sign-up conflict (the same answer for every identifier)."),
    session_limit: e(409, "Session limit", "The tenant's session limit refuses a new sign-in."),
    mfa_already_enabled: e(409, "MFA already enabled", "TOTP is already enabled."),
    mfa_not_enabled: e(409, "MFA not enabled", "TOTP is not enabled."),
    mfa_not_set_up: e(409, "MFA not set up", "Enabling TOTP before setting it up."),
    role_exists: e(409, "Role exists", "A role with this name exists."),
    system_role: e(409, "System role", "System roles keep their names and ranks and cannot be deleted."),
    cannot_suspend_self: e(409, "Cannot suspend self", "Suspending or deleting your own account through the admin API."),
    last_owner: e(409, "Last owner", "The tenant's last active owner cannot be suspended, deleted or lose the owner role."),
    auth_unavailable: e(503, "Sign-in unavailable", "The sign-in limiter is unreachable (fails closed); `Retry-After: 5`."),
  },
  "Users and the social graph": {
    invalid_avatar: e(400, "Invalid avatar", "`avatarFileId` is not one of your finished avatar uploads."),
    cannot_follow_self: e(400, "Cannot follow self", "Following yourself."),
    cannot_befriend_self: e(400, "Cannot befriend self", "A friend request to yourself."),
    cannot_block_self: e(400, "Cannot block self", "Blocking yourself."),
    friend_requests_closed: e(403, "Friend requests closed", "The recipient accepts no friend requests."),
    user_blocked: e(403, "User blocked", "A block stands between you and this user (you blocked them: unblock them first)."),
    friend_request_not_found: e(404, "Friend request not found", "Not yours, or gone."),
    friend_not_found: e(404, "Friend not found", "This user is not your friend."),
    friend_group_not_found: e(404, "Friend group not found", "Not yours, or gone."),
    already_friends: e(409, "Already friends", "You are already friends."),
    friend_request_closed: e(409, "Friend request closed", "The friend request is no longer pending."),
    friend_limit: e(409, "Friend limit", "The tenant's friend limit is reached."),
    pending_limit: e(409, "Pending limit", "Too many pending friend requests."),
  },
  "Conversations and messages": {
    cannot_message_self: e(400, "Cannot message self", "A direct conversation needs another user."),
    invalid_frame: e(400, "Invalid frame", "A socket frame that is not JSON, binary, of an unknown type or failing its schema (sockets only)."),
    not_friends: e(403, "Not friends", "Direct messages need a friendship, unless the tenant allows strangers (`messages.directWithStrangers`)."),
    not_yourself: e(403, "Not yourself", "Members mute conversations for themselves only."),
    insufficient_role: e(403, "Insufficient role", "Your role in this group does not allow this."),
    not_message_sender: e(403, "Not the sender", "Only the sender may change this message."),
    conversation_not_found: e(404, "Conversation not found", "No such conversation, or you are not a member (the same answer)."),
    message_not_found: e(404, "Message not found", "No such message in this conversation."),
    member_not_found: e(404, "Member not found", "That user is not a member of this conversation."),
    not_a_group: e(409, "Not a group", "Direct conversations have no group management."),
    owner_must_transfer: e(409, "Owner must transfer", "The group owner leaves or is removed only after transferring ownership."),
    message_recalled: e(409, "Message recalled", "The message was recalled."),
    edit_window_expired: e(409, "Edit window expired", "Messages can be edited only for the tenant's edit window after sending."),
    recall_window_expired: e(409, "Recall window expired", "Messages can be recalled only for the tenant's recall window after sending."),
    group_too_large: e(422, "Group too large", "A group has at most the tenant's member limit."),
    message_blocked: e(422, "Message blocked", "The message was refused by moderation."),
    not_file_owner: e(422, "Not the file's owner", "Only your own uploads can be sent."),
    file_not_ready: e(422, "File not ready", "A multipart upload that is not completed."),
    upgrade_required: e(400, "WebSocket upgrade required", "`GET /v1/realtime` without `Upgrade: websocket`."),
  },
  "Files": {
    empty_file: e(400, "Empty file", "The file is empty."),
    invalid_part_number: e(400, "Invalid part number", "The upload has no part with this number."),
    part_size_mismatch: e(400, "Part size mismatch", "A part smaller than the size the upload declared for it."),
    invalid_signature: e(403, "Invalid signature", "The download URL's signature is not valid for this file."),
    url_expired: e(403, "URL expired", "The download URL has expired; fetch the file again for a fresh one."),
    file_not_found: e(404, "File not found", "Unknown, deleted, another tenant's, or someone else's private file."),
    upload_not_found: e(404, "Upload not found", "No such upload in progress."),
    upload_incomplete: e(409, "Upload incomplete", "Completing an upload with parts still missing."),
    file_too_large: e(413, "File too large", "The file exceeds the purpose's or the tenant's size limit."),
    part_too_large: e(413, "Part too large", "A part larger than the size the upload declared for it."),
    unsupported_file_type: e(415, "Unsupported file type", "The bytes are of a type the purpose does not accept, or the name's extension runs when opened (files.md)."),
  },
  "Notifications and webhooks": {
    notification_not_found: e(404, "Notification not found", "No such notification for this user."),
    webhook_url_not_allowed: e(400, "Webhook URL not allowed", "Link-local, cloud metadata or wildcard-DNS hosts (everywhere); outside development also not https or a loopback, private, reserved or internal host (webhooks.md)."),
    webhook_endpoint_not_found: e(404, "Webhook endpoint not found", "No such webhook endpoint in this tenant."),
    webhook_delivery_not_found: e(404, "Webhook delivery not found", "No such webhook delivery in this tenant."),
    webhook_endpoint_limit: e(409, "Webhook endpoint limit", "The tenant has the maximum number of webhook endpoints."),
    webhook_endpoint_disabled: e(409, "Webhook endpoint disabled", "The endpoint is disabled (re-enable it first)."),
  },
  "Availability": {
    internal_error: e(500, "Internal error", "A bug; quote the request id. The stack is logged, never sent."),
    temporarily_unavailable: e(503, "Temporarily unavailable", "A Durable Object behind the route was briefly unreachable (the runtime flagged the error `retryable`); `Retry-After: 1`."),
    service_unavailable: e(503, "Service unavailable", "A database or another backing service timed out, reset the connection or answered 5xx; `Retry-After: 2`. Nothing was half-applied."),
    overloaded: e(503, "Overloaded", "A Durable Object behind the route is overloaded; `Retry-After: 10`, and back off further."),
  },
} as const satisfies Record<string, Record<string, ErrorSpec>>;

type Groups = typeof errorGroups;
/** Every code the API can answer. */
export type ErrorCode = { [G in keyof Groups]: keyof Groups[G] }[keyof Groups] & string;

/** Code → spec, flattened. */
export const errorRegistry: Readonly<Record<ErrorCode, ErrorSpec>> = Object.assign({}, ...Object.values(errorGroups));

/** True when `code` is a registered code. */
export const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(errorRegistry, code);

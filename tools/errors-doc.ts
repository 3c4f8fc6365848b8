/**
 * `npm run docs:errors`: writes docs/errors.md from the error registry (src/lib/error-codes.ts).
 * `npm run lint` fails when the file is stale (see {@link errorsDocIsCurrent}).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { errorGroups, type ErrorSpec } from "../src/lib/error-codes";

export const ERRORS_DOC = join(import.meta.dirname, "..", "docs", "errors.md");

const intro = `# Errors

<!-- Generated from src/lib/error-codes.ts by \`npm run docs:errors\`; edit the registry, not this file. -->

Every error is an RFC 9457 problem document with \`Content-Type: application/problem+json\`:

\`\`\`json
{
  "type": "https://canopy.dev/problems/validation_failed",
  "title": "Validation failed",
  "status": 400,
  "code": "validation_failed",
  "detail": "Invalid json: slug must be 3–40 lowercase letters, …",
  "requestId": "5c0f…",
  "errors": [{ "path": "slug", "message": "…" }]
}
\`\`\`

Clients switch on \`code\` (stable); \`title\` is the code's fixed summary and \`detail\` is for humans
and may change. Each code has exactly one status. \`requestId\` matches the \`X-Request-Id\`
response header and the server's log line. Unexpected failures are a bare 500 \`internal_error\`:
the stack is logged, never sent. A Durable Object the runtime could not reach, or that it reports
overloaded, is not a bug of the request: 503 with \`Retry-After\`, logged as a warning.

Socket \`error\` frames carry the same codes as HTTP (\`{ type: "error", code, message }\`): a
refusal from a Durable Object is one code whichever way the call came. \`/openapi.json\` lists, for
every operation and status, the codes that operation can answer (an \`enum\` on \`code\`).
`;

/**
 * Client-visible changes of codes and statuses, newest first. Append when a code's meaning or
 * status changes (it should not: add a code instead).
 */
const changelog = `## Changelog

**Accounts by email.** New codes: \`invalid_email_token\` (400), \`email_required\` (400),
\`email_unchanged\` (400), \`email_not_verified\` (403), \`sign_in_method_disabled\` (403),
\`email_already_verified\` (409), \`email_taken\` (409). A sign-in whose password was checked
before the account's password was reset or changed answers 401 \`invalid_credentials\`.

**Error registry (one status per code).** Codes that answered with two statuses now answer one:
- \`user_blocked\` is 403 everywhere: a friend request to someone you blocked was 409.
- \`role_not_found\` is 404 only (the role in the path). Naming a role that does not exist in a
  body is 400 \`unknown_role\` (\`PUT /v1/admin/users/{id}/roles\`, was 400 \`role_not_found\`;
  \`POST /v1/admin/announcements\` with \`role\`, was 404 \`role_not_found\`).
- \`account_inactive\` is 401 only (the token's user was suspended or deleted). A suspension that
  lands while a sign-in opens its session answers 403 \`account_suspended\`, like the sign-in
  itself (was 403 \`account_inactive\`).
- A 101st friend group is 409 \`friend_group_limit\` (was 409 \`friend_limit\`, "The friend limit is
  reached", which named the wrong limit).
- \`file_not_found\` is 404 everywhere: sending a file message whose file does not exist was 422.
- Refusals of a conversation over a socket carry the code HTTP answers: an invalid message body
  the conversation refuses (editing a file message's file) is \`validation_failed\`, was
  \`invalid_frame\` (frames that fail the frame schema keep \`invalid_frame\`).
- Problem \`title\`s are the code's own title (\`"User not found"\`), no longer the status's
  (\`"Not Found"\`).
`;

const row = (code: string, s: ErrorSpec) => `| ${s.status} | \`${code}\` | ${s.title} | ${s.description} |`;

/** docs/errors.md as the registry says it. */
export function renderErrorsDoc(): string {
  const sections = Object.entries(errorGroups).map(([group, codes]) => {
    const rows = Object.entries(codes as Record<string, ErrorSpec>)
      .sort(([a, x], [b, y]) => x.status - y.status || a.localeCompare(b))
      .map(([code, spec]) => row(code, spec));
    return [`## ${group}`, "", "| status | code | title | when |", "|---|---|---|---|", ...rows].join("\n");
  });
  return [intro, ...sections, changelog].join("\n\n").replace(/\n{3,}/g, "\n\n");
}

/** True when docs/errors.md is what the registry renders. */
export function errorsDocIsCurrent(): boolean {
  return readFileSync(ERRORS_DOC, "utf8") === renderErrorsDoc();
}

if (import.meta.filename === process.argv[1]) {
  writeFileSync(ERRORS_DOC, renderErrorsDoc());
  console.log(`wrote ${ERRORS_DOC}`);
}

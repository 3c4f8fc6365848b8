/**
 * Sign-in invariants.
 * - Refresh rotation left one live lineage per session: through the API, each chain's newest
 *   token still rotates (a broken chain is a lost lineage); in the user's hub storage, the
 *   session is live and holds exactly one unused refresh token, the client's newest one.
 * - Each TOTP step was accepted at most once: no two 200s for one user and step; in storage,
 *   the sessions the user's hub opened after enrolment are no more than the steps the user row
 *   advanced by (each acceptance claims a newer step, and opens at most one session).
 * - Sign-ups: every acknowledged account (or one whose answer was lost, 409 on the retry) signs
 *   in; its rows are whole (storage.ts checks them against the outbox).
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { callWithRetry, field, type Api } from "../http";
import type { Chain, Registration } from "../load/auth";
import type { TotpAcceptance } from "../load/totp";
import { hubUser, type ObjectFile, type Sqlite } from "../storage";
import { PASSWORD, type TotpUser } from "../world";
import { check, fail, type Check } from "./check";

export async function verifyChains(api: Api, chains: Chain[]): Promise<Check> {
  const c = check("refresh rotation: one live lineage per session");
  c.attempted = chains.reduce((n, ch) => n + ch.ops, 0);
  c.acknowledged = chains.reduce((n, ch) => n + ch.rotations, 0);
  // Units are rotations: those of a lineage still live at the end are found; a broken lineage
  // loses its session, counted as its acknowledged rotations (at least one).
  for (const ch of chains) {
    if (ch.broken) {
      c.lost += Math.max(1, ch.rotations);
      fail(c, `${ch.user.username}: lineage broken: ${ch.broken}`);
      continue;
    }
    const { last } = await callWithRetry(
      api,
      "verify.refresh",
      "POST",
      "/v1/auth/refresh",
      { body: { refreshToken: ch.token }, freshAddress: true },
      Date.now() + 30_000,
    );
    const next = field(last.json, "refreshToken");
    if (last.status === 200 && next) {
      ch.token = next;
      c.found += ch.rotations;
    } else {
      c.lost += Math.max(1, ch.rotations);
      fail(c, `${ch.user.username}: the newest token no longer rotates: ${last.status ?? last.error} ${last.body}`);
    }
  }
  c.notes.push(`rotations that needed a retry: ${chains.reduce((n, ch) => n + ch.retried, 0)}`);
  return c;
}

const sha256 = (s: string): string => createHash("sha256").update(s).digest("hex");

/** Storage half of the lineage check: one unused token per chain session, the client's. */
export function checkLineagesInStorage(c: Check, chains: Chain[], hubs: ObjectFile[]): void {
  for (const ch of chains.filter((x) => !x.broken)) {
    const hub = hubs.find((h) => hubUser(h) === ch.user.userId);
    if (!hub) {
      fail(c, `${ch.user.username}: no hub storage found`);
      continue;
    }
    const session = hub.db.rows(
      z.object({ revoked_at: z.number().nullable(), revoked_reason: z.string().nullable() }),
      "SELECT revoked_at, revoked_reason FROM sessions WHERE id = ?",
      ch.user.sessionId,
    )[0];
    if (!session || session.revoked_at !== null)
      fail(
        c,
        `${ch.user.username}: session ${ch.user.sessionId} is ${session ? `revoked (${session.revoked_reason})` : "missing"} in its hub`,
      );
    const unused = hub.db.rows(
      z.object({ hash: z.string() }),
      "SELECT hash FROM refresh_tokens WHERE session_id = ? AND used_at IS NULL",
      ch.user.sessionId,
    );
    if (unused.length !== 1)
      fail(
        c,
        `${ch.user.username}: ${unused.length} unused refresh tokens in session ${ch.user.sessionId} (one lineage means exactly 1)`,
      );
    else if (unused[0]!.hash !== sha256(ch.token))
      fail(c, `${ch.user.username}: the unused refresh token in storage is not the client's newest one`);
  }
}

export function verifyTotp(accepted: TotpAcceptance[], verifications: number): Check {
  const c = check("TOTP: each time step accepted at most once");
  c.attempted = verifications;
  c.acknowledged = accepted.length;
  const byStep = new Map<string, TotpAcceptance[]>();
  for (const a of accepted)
    byStep.set(`${a.user.username}@${a.step}`, [...(byStep.get(`${a.user.username}@${a.step}`) ?? []), a]);
  for (const [k, list] of byStep)
    if (list.length > 1)
      fail(c, `${k}: accepted ${list.length} times (sessions ${list.map((a) => a.sessionId).join(", ")})`);
  c.found = byStep.size;
  c.notes.push(`distinct (user, step) accepted: ${byStep.size}`);
  return c;
}

/** Storage half: sessions opened after enrolment ≤ steps claimed ≥ acceptances seen by the client. */
export function checkTotpInStorage(
  c: Check,
  users: TotpUser[],
  accepted: TotpAcceptance[],
  tenant: Sqlite,
  hubs: ObjectFile[],
): void {
  for (const u of users) {
    const row = tenant.rows(
      z.object({ totp_last_step: z.number() }),
      "SELECT totp_last_step FROM users WHERE id = ?",
      u.userId,
    )[0];
    const hub = hubs.find((h) => hubUser(h) === u.userId);
    if (!row || !hub) {
      fail(c, `${u.username}: user row or hub storage missing`);
      continue;
    }
    const claimed = row.totp_last_step - u.enabledStep;
    const sessions = hub.db.rows(
      z.object({ n: z.number() }),
      "SELECT count(*) AS n FROM sessions WHERE created_at > ?",
      u.enabledAt,
    )[0]!.n;
    const seen = accepted.filter((a) => a.user === u).length;
    if (sessions > claimed)
      fail(
        c,
        `${u.username}: ${sessions} sessions opened after enrolment but the step advanced only ${claimed} times: a step was accepted twice`,
      );
    if (seen > sessions)
      fail(c, `${u.username}: ${seen} acceptances answered but only ${sessions} sessions in the hub`);
    c.notes.push(`${u.username}: steps claimed ${claimed}, sessions opened ${sessions}, acceptances answered ${seen}`);
  }
}

export async function verifyRegistrations(api: Api, regs: Registration[]): Promise<Check> {
  const c = check("sign-ups: acknowledged accounts exist and sign in");
  c.attempted = regs.length;
  let lostAnswers = 0;
  let unknownCreated = 0;
  for (const r of regs) {
    const claimed = r.acked || r.answerLost;
    if (claimed) c.acknowledged++;
    if (r.answerLost) lostAnswers++;
    const { last } = await callWithRetry(
      api,
      "verify.login",
      "POST",
      "/v1/auth/login",
      { body: { identifier: r.username, password: PASSWORD }, freshAddress: true },
      Date.now() + 30_000,
    );
    const signsIn = last.status === 200;
    if (claimed && signsIn) c.found++;
    else if (claimed) {
      c.lost++;
      fail(
        c,
        `${r.username} (answer ${r.outcome} after ${r.attempts} attempts) cannot sign in: ${last.status ?? last.error} ${last.body}`,
      );
    } else if (signsIn) unknownCreated++;
  }
  c.notes.push(
    `created though the answer was lost (409 on the retry): ${lostAnswers}; created though the client gave up: ${unknownCreated}`,
  );
  return c;
}

/**
 * The verification, in two halves. Through the API while workerd still runs (logs, friends,
 * follows, refresh chains, sign-ins, wallets, orders, the ledger and AI quotas), then, once every server has stopped, from storage (the
 * tenant's database file, the Durable Objects' files) and the harness's own records (queue
 * broker, webhook receiver, the journal of every answer). Also scans the servers' logs for
 * unhandled errors, so a 500 can be matched with its stack.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import type { Journal } from "../http";
import { callWithRetry, type Api } from "../http";
import type { Load } from "../load/index";
import { probeCheck, type ProbeResult } from "../probes";
import type { Window } from "../scenarios";
import type { FaultStack } from "../stack";
import { objectFiles, tenantFile } from "../storage";
import { TENANT, type World } from "../world";
import { verifyAtomicWrites } from "./atomic";
import { checkLineagesInStorage, checkTotpInStorage, verifyChains, verifyRegistrations, verifyTotp } from "./auth";
import { type QuotaView, verifyAi } from "./ai";
import { check, countBy, describeCounts, fail, type Check } from "./check";
import { verifyAnnouncements, verifyConsumers, verifyObjectEvents, verifyOutbox } from "./events";
import { verifyFollows, verifyFriends } from "./graph";
import { verifyMessages, type LogEntry } from "./messages";
import { verifyMoney } from "./money";
import { verifyResponses, type WindowFigures } from "./responses";
import { verifyWebhooks } from "./webhooks";

export interface ApiPhase {
  checks: Check[];
  logs: Map<string, LogEntry[]>;
  following: Map<string, Set<string>>;
  dbName: string;
  aiQuotas: Map<string, QuotaView>;
}

const TenantView = z.object({ database: z.object({ name: z.string() }) }).loose();

export async function verifyThroughApi(
  api: Api,
  adminToken: string,
  world: World,
  load: Load,
  aiQuotaViews: Map<string, QuotaView>,
  convergeMs: number,
): Promise<ApiPhase> {
  const socketSends = load.senders.flatMap((s) => [...s.records.values()]);
  const messages = await verifyMessages(api, world.pairs, socketSends, [...load.misc.httpSends.values()]);
  const friends = await verifyFriends(api, world.users, load.graph.ops, convergeMs);
  const follows = await verifyFollows(api, world.users, load.graph.ops);
  const chains = await verifyChains(api, load.auth.chains);
  const regs = await verifyRegistrations(api, load.auth.registrations);
  const totp = verifyTotp(load.totp.accepted, load.totp.figures.verifications);
  const money = await verifyMoney(api, world, load.money);
  const t = await callWithRetry(
    api,
    "verify.tenant",
    "GET",
    `/admin/v1/tenants/${TENANT}`,
    { headers: { authorization: `Bearer ${adminToken}` } },
    Date.now() + 30_000,
  );
  const dbName = TenantView.parse(t.last.json).database.name;
  if (load.loops.crashes.length)
    friends.notes.push(`load steps that threw: ${load.loops.crashes.slice(0, 5).join("; ")}`);
  return {
    checks: [...messages.checks, friends, follows.check, chains, totp, regs, money],
    logs: messages.logs,
    following: follows.following,
    dbName,
    aiQuotas: aiQuotaViews,
  };
}

/** Lines of the Worker's logs that say something went wrong outside a request's answer. */
function logCheck(stack: FaultStack): Check {
  const c = check("server logs: no unhandled error (the 500 path)");
  const unhandled: string[] = [];
  const uncaught: string[] = [];
  for (const file of stack.workerd.logFiles()) {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      if (line.includes('"msg":"unhandled error"')) unhandled.push(line.slice(0, 600));
      else if (/uncaught/i.test(line)) uncaught.push(line.replace(/\s+/g, " ").slice(0, 160));
    }
  }
  c.attempted = unhandled.length;
  for (const l of unhandled) fail(c, `workerd: ${l}`, 6);
  if (uncaught.length)
    c.notes.push(
      `workerd "uncaught" lines (background work, not answers): ${describeCounts(countBy(uncaught, (l) => l.replace(/[0-9a-z]{26}/g, "…").slice(0, 120)))}`,
    );
  const internal = stack.libsql.logFiles().flatMap((f) =>
    readFileSync(f, "utf8")
      .split("\n")
      .filter((l) => /internal error/i.test(l)),
  );
  if (internal.length)
    c.notes.push(`libSQL server internal errors: ${internal.length}, first: ${internal[0]!.slice(0, 200)}`);
  return c;
}

export interface StoragePhaseInput {
  stack: FaultStack;
  world: World;
  load: Load;
  api: ApiPhase;
  journal: Journal;
  windows: Window[];
  probe: ProbeResult | null;
  subscribedAt: number;
}

/** Runs once every server has stopped. */
export function verifyFromStorage(i: StoragePhaseInput): { checks: Check[]; perWindow: WindowFigures[] } {
  const { stack, world, load } = i;
  const tenant = tenantFile(stack.libsqlDataDir, i.api.dbName);
  const hubs = objectFiles(stack.doDir, "UserHub");
  const convs = objectFiles(stack.doDir, "Conversation");
  try {
    const byName = new Map(i.api.checks.map((c) => [c.name, c]));
    const chains = [...byName.values()].find((c) => c.name.startsWith("refresh rotation"));
    const totp = [...byName.values()].find((c) => c.name.startsWith("TOTP"));
    if (chains) checkLineagesInStorage(chains, load.auth.chains, hubs);
    if (totp) checkTotpInStorage(totp, world.totp, load.totp.accepted, tenant, hubs);
    const responses = verifyResponses(i.journal.outcomes, i.windows);
    const checks = [
      responses.check,
      ...i.api.checks,
      verifyAtomicWrites(tenant, i.api.following),
      verifyAi(tenant, world, load.ai, i.api.aiQuotas),
      verifyOutbox(stack.broker, tenant, Date.now()),
      verifyObjectEvents(
        stack.broker,
        i.api.logs,
        [
          { className: "UserHub", files: hubs },
          { className: "Conversation", files: convs },
        ],
        stack.doDir,
      ),
      verifyConsumers(stack.broker, tenant, i.api.logs, {
        messages: [...i.api.logs.values()].reduce((n, log) => n + log.filter((e) => e.kind === "text").length, 0),
        registrations: tenant.rows(z.object({ n: z.number() }), "SELECT count(*) AS n FROM users")[0]!.n,
        logins: hubs.reduce(
          (n, h) =>
            n +
            (h.db.hasTable("sessions")
              ? h.db.rows(z.object({ n: z.number() }), "SELECT count(*) AS n FROM sessions")[0]!.n
              : 0),
          0,
        ),
      }),
      verifyAnnouncements(load.misc.announcements, tenant, world.users),
      verifyWebhooks(stack.broker, stack.receiver, tenant, world.webhookId, i.subscribedAt),
      ...(i.probe ? [probeCheck(i.probe)] : []),
      logCheck(stack),
    ];
    return { checks, perWindow: responses.perWindow };
  } finally {
    tenant.close();
    for (const f of [...hubs, ...convs]) f.db.close();
  }
}

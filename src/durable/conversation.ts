import { DurableObject } from "cloudflare:workers";
import { newId } from "../lib/ids";
import { refuse } from "./protocol/result";
import { Fanout } from "./conversation/fanout";
import { checkFile, type FileInput } from "./conversation/attachments";
import { directRule } from "./conversation/direct";
import { edit, type MessageChange, moderate, moderationRecall, recall } from "./conversation/edits";
import { SYNC_MAX, type LogKind, type MessageInput, type MessageView, type ServerFrame } from "./protocol/frames";
import { addMembers, changeRole, type GroupContext, leave, mute, removeMember, rename } from "./conversation/groups";
import { notifiedMentions } from "./conversation/mentions";
import { cachedPolicy, PolicyReader } from "./conversation/policy";
import {
  anonymizeSender,
  appendMessage,
  conversationMigrations,
  findByClientId,
  hasFileMessage,
  insertMember,
  latestSeq,
  loadMembers,
  messageRange,
  pruneBefore,
  readMeta,
  setReadSeq,
  unreadCount,
  writeMeta,
} from "./conversation/store";
import type {
  ConversationInit,
  ConversationSummary,
  ConversationView,
  ConvResult,
  MemberRole,
  MemberView,
  MembershipChange,
  MessagePolicy,
  SendOptions,
  SendResult,
  SinceResult,
} from "./conversation/types";
import { alarmBy, DurableOutbox } from "./outbox";
import { migrateStorage } from "./storage-migrations";
import { restorePage, type SnapshotCursor, type SnapshotPage, snapshotPage } from "./snapshot";
import { metrics } from "../lib/metrics/recorder";
import { flushTelemetrySoon } from "./protocol/metrics-sink";
import { configureTelemetry } from "../lib/telemetry";
import { continueTrace, currentTraceparent } from "../lib/tracing/spans";

export type * from "./conversation/types";
export type { MessageChange } from "./conversation/edits";
export type { FileBody } from "./conversation/attachments";

/** Typing indicators per member are forwarded at most this often; they are never stored. */
const TYPING_EVERY_MS = 3_000;

/** What a backup keeps of a conversation (its outbox is left: a restore emits nothing). */
const SNAPSHOT_TABLES = ["meta", "members", "messages"] as const;

const notFound = refuse("conversation_not_found", "No such conversation.");
const ok = <T>(value: T): ConvResult<T> => ({ ok: true, value });

/**
 * One object per conversation (named `<tenantId>:<conversationId>`): the ordered message log
 * with gap-free sequence numbers, membership with read cursors, and fan-out to members' hubs.
 * Members are held in memory (read on every call); every change is written to storage first.
 */
export class Conversation extends DurableObject<Env> {
  private schemaVersion = 0;
  private meta = new Map<string, string>();
  private members = new Map<string, MemberView>();
  private readonly fanout: Fanout;
  private readonly typingAt = new Map<string, number>();
  private readonly policies = new PolicyReader(this.env, () => this.meta.get("tenantId") ?? "");
  private readonly outbox: DurableOutbox;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    configureTelemetry(env);
    this.fanout = new Fanout(env, () => this.meta.get("tenantId") ?? "");
    this.outbox = new DurableOutbox(
      ctx,
      env,
      () => {
        const tenantId = this.meta.get("tenantId");
        return tenantId && this.id ? { tenantId, source: `/tenants/${tenantId}/conversations/${this.id}` } : null;
      },
      alarmBy(ctx.storage),
    );
    ctx.blockConcurrencyWhile(async () => {
      this.schemaVersion = migrateStorage(ctx.storage, conversationMigrations);
      this.meta = readMeta(ctx.storage.sql);
      this.members = loadMembers(ctx.storage.sql);
    });
  }

  /** The storage schema version, for operators and tests. */
  version(): number {
    return this.schemaVersion;
  }

  private get id(): string {
    return this.meta.get("id") ?? "";
  }

  private view(): ConversationView {
    const m = this.meta;
    return {
      id: this.id,
      type: m.get("type") as ConversationView["type"],
      name: m.get("name") ?? null,
      ownerId: m.get("ownerId") ?? "",
      createdAt: Number(m.get("createdAt")),
      members: [...this.members.values()],
      lastSeq: latestSeq(this.ctx.storage.sql),
    };
  }

  // ---- backups (src/durable/snapshot.ts): facts, members with read cursors, the log ----
  snapshot(cursor: SnapshotCursor | null): SnapshotPage {
    return snapshotPage(this.ctx.storage.sql, SNAPSHOT_TABLES, cursor);
  }
  /** Writes a backup's page into this object of the restored tenant (`first` empties it beforehand). */
  restore(page: SnapshotPage, tenantId: string, first: boolean): number {
    const n = restorePage(this.ctx.storage, SNAPSHOT_TABLES, page, tenantId, first);
    this.meta = readMeta(this.ctx.storage.sql);
    this.members = loadMembers(this.ctx.storage.sql);
    return n;
  }

  /** Creates the conversation; creating an existing one answers it unchanged (idempotent). */
  create(init: ConversationInit): { created: boolean; view: ConversationView } {
    if (this.meta.has("id")) return { created: false, view: this.view() };
    const sql = this.ctx.storage.sql;
    const facts: Record<string, string> = {
      id: init.id,
      tenantId: init.tenantId,
      type: init.type,
      ownerId: init.ownerId,
      createdAt: String(init.now),
    };
    if (init.name !== null) facts.name = init.name;
    this.ctx.storage.transactionSync(() => {
      writeMeta(sql, facts);
      for (const userId of new Set([init.ownerId, ...init.memberIds])) {
        insertMember(sql, {
          userId,
          role: userId === init.ownerId && init.type === "group" ? "owner" : "member",
          joinedAt: init.now,
          readSeq: 0,
          muted: false,
        });
      }
    });
    this.meta = readMeta(sql);
    this.members = loadMembers(sql);
    return { created: true, view: this.view() };
  }

  /** The conversation as a member sees it; non-members get not_found (no existence leak). */
  get(userId: string): ConvResult<ConversationSummary> {
    const me = this.members.get(userId);
    if (!me) return notFound;
    const sql = this.ctx.storage.sql;
    const view = this.view();
    const last = view.lastSeq
      ? messageRange(sql, this.id, { after: view.lastSeq - 1, before: view.lastSeq + 1, limit: 1, newest: true })[0]
      : undefined;
    return ok({
      ...view,
      lastMessage: last ?? null,
      readSeq: me.readSeq,
      unreadCount: unreadCount(sql, userId, me.readSeq),
      muted: me.muted,
    });
  }

  /** The other member of a direct conversation (undefined for groups). */
  private peerOf(userId: string): string | undefined {
    return this.meta.get("type") === "direct" ? [...this.members.keys()].find((id) => id !== userId) : undefined;
  }

  /**
   * Appends a message and fans it out. A retried clientId answers the stored message and is not
   * delivered again. Whatever it awaits (the hub's relation or mentions, a file, the policy),
   * the append is one synchronous statement after it: seq stays gap-free however many sends interleave.
   */
  send(userId: string, input: MessageInput, opts: SendOptions = {}): Promise<ConvResult<SendResult>> {
    // The caller's trace goes on here: the deliveries, and the message.created consumers, are its children.
    const attrs = { "rpc.system": "cloudflare_durable_objects", "rpc.method": "Conversation.send" };
    return continueTrace("Conversation.send", opts.traceparent, attrs, () => this.sendNow(userId, input, opts)).finally(
      () => flushTelemetrySoon(this.env, (p) => this.ctx.waitUntil(p)),
    );
  }

  private async sendNow(userId: string, input: MessageInput, opts: SendOptions): Promise<ConvResult<SendResult>> {
    const { now = Date.now(), exceptConn } = opts;
    const traceparent = currentTraceparent() ?? opts.traceparent;
    if (!this.canSend(userId)) return notFound;
    const sql = this.ctx.storage.sql;
    const peer = this.peerOf(userId);
    let relation: SendResult["relation"];
    const withPeer = (message: MessageView, duplicate: boolean) =>
      ok<SendResult>({ message, duplicate, ...(peer ? { peer } : {}), ...(relation ? { relation } : {}) });
    const existing = findByClientId(sql, this.id, userId, input.clientId);
    if (existing) return withPeer(existing, true);
    const tenantId = this.meta.get("tenantId") ?? "";
    // The usual socket send waits for nothing here (the gateway vouched for the relation, the
    // policy is cached): then no other call can have run meanwhile, and the checks above still hold.
    let waited = !!peer && opts.relation?.peer !== peer;
    let policy = opts.policy ?? cachedPolicy(this.env, tenantId, now);
    if (!policy) {
      waited = true;
      policy = await this.policies.load(now);
    }
    const rule = await directRule(this.env, tenantId, userId, peer, policy, opts.relation);
    relation = rule.relation;
    if (rule.refused) return rule.refused;
    // A file message names one of the sender's ready uploads; the stored body carries the file's facts.
    let file: Awaited<ReturnType<typeof checkFile>> | undefined;
    if (input.kind === "file") {
      waited = true;
      file = await checkFile(this.env, tenantId, userId, input.body as FileInput);
      if (!file.ok) return file;
    }
    const mentioned = await notifiedMentions(this.env, tenantId, this.members, userId, input, opts.blockedMentions);
    waited ||= mentioned.asked;
    // The moderation hook runs before the message is stored (socket sends use the tenant's policy).
    const moderated = moderate(policy, input.kind, file?.ok ? file.value : input.body);
    if (!moderated.ok) return moderated;
    if (waited) {
      // Checked again after real waits: a concurrent retry may have stored it meanwhile (or the sender left).
      if (!this.canSend(userId)) return notFound;
      const again = findByClientId(sql, this.id, userId, input.clientId);
      if (again) return withPeer(again, true);
    }
    const message = this.ctx.storage.transactionSync(() =>
      this.logged(
        appendMessage(sql, this.id, {
          id: newId(now),
          senderId: userId,
          clientId: input.clientId,
          kind: input.kind,
          body: moderated.value,
          sentAt: now,
        }),
        traceparent,
        mentioned.ids,
      ),
    );
    const to = opts.senderAlone ? [...this.members.keys()].filter((u) => u !== userId) : this.members.keys();
    this.deliver(message, to, exceptConn);
    metrics.add("canopy_messages_total", {}, 1, tenantId);
    return withPeer(message, false);
  }

  /**
   * Records a `message.created` event for a log entry, in the caller's storage transaction: the
   * event pipeline copies the log to the tenant DB (search, export), counts messages, and tells
   * offline recipients (the non-muted members other than the sender) and `mentioned` ones (a
   * mention notifies a recipient only, never across a block: see mentioned()).
   */
  private logged(m: MessageView, traceparent?: string, mentioned: string[] = []): MessageView {
    const recipients = [...this.members.values()]
      .filter((x) => x.userId !== m.senderId && !x.muted)
      .map((x) => x.userId);
    // Members and mutes as of the append: one may have left or muted while the send waited.
    const mentions = mentioned.filter((u) => recipients.includes(u));
    this.outbox.record(
      {
        type: "message.created",
        subject: this.id,
        traceparent,
        data: {
          ...m,
          conversationType: this.meta.get("type"),
          conversationName: this.meta.get("name") ?? null,
          recipients,
          mentioned: mentions,
        },
      },
      Date.parse(m.sentAt),
    );
    return m;
  }

  /** Publishes events a failed send left behind (the outbox schedules this alarm). */
  override async alarm(): Promise<void> {
    await this.outbox.publish();
  }

  /** The tenant's gateway count, from the isolate's cached config or, when it has none, a read of it. */
  private gateways(): number | Promise<number> {
    return (
      cachedPolicy(this.env, this.meta.get("tenantId") ?? "")?.gateways ?? this.policies.load().then((p) => p.gateways)
    );
  }

  /** Delivers a log entry to members' gateways (muted members too: they just get no push). */
  private deliver(message: MessageView, to: Iterable<string>, exceptConn?: string): void {
    const frame: ServerFrame = { type: "message", ...message };
    this.fanout.send(() => this.gateways(), to, JSON.stringify(frame), {
      exceptConn,
      conversationId: this.id,
      seq: message.seq,
    });
  }

  /** The object as the group and edit operations see it: storage, state, and the log's emitter. */
  private get group(): GroupContext {
    return {
      sql: this.ctx.storage.sql,
      meta: this.meta,
      members: this.members,
      emit: (actorId: string, kind: LogKind, body: unknown, now: number, alsoTo: string[] = []) => {
        const id = newId(now);
        const message = this.logged(
          appendMessage(this.ctx.storage.sql, this.id, {
            id,
            senderId: actorId,
            clientId: `${kind}:${id}`,
            kind,
            body,
            sentAt: now,
          }),
        );
        this.deliver(message, new Set([...this.members.keys(), ...alsoTo]));
        return message;
      },
    };
  }

  /** Runs a change in one storage transaction: its rows and its log event commit together. */
  private atomically<T>(run: () => ConvResult<T>): ConvResult<T> {
    return this.ctx.storage.transactionSync(run);
  }

  /** Adds members to a group (owner/admins); `max` is the tenant's group size limit. */
  addMembers(actor: string, userIds: string[], max: number, now = Date.now()): ConvResult<MembershipChange> {
    return this.atomically(() => addMembers(this.group, actor, userIds, max, now));
  }

  /** Removes a member (owner: anyone; admins: plain members); removing yourself is leaving. */
  removeMember(actor: string, target: string, now = Date.now()): ConvResult<MembershipChange> {
    return this.atomically(() => removeMember(this.group, actor, target, now));
  }

  /** Leaves a group; an owner's group passes to the oldest admin, else the oldest member. */
  leave(actor: string, now = Date.now()): ConvResult<MembershipChange> {
    return this.atomically(() => leave(this.group, actor, now));
  }

  rename(actor: string, name: string, now = Date.now()): ConvResult<MembershipChange> {
    return this.atomically(() => rename(this.group, actor, name, now));
  }

  /** Promotes, demotes, or (role `owner`) transfers ownership; owner only. */
  setRole(actor: string, target: string, role: MemberRole, now = Date.now()): ConvResult<MembershipChange> {
    return this.atomically(() => changeRole(this.group, actor, target, role, now));
  }

  mute(actor: string, muted: boolean): ConvResult<{ muted: boolean }> {
    return mute(this.group, actor, muted);
  }

  /**
   * Edits a message (its sender, within the tenant's window); an `edit` event goes on the log.
   * Without a policy (socket frames) the object loads the tenant's; the change itself is one
   * synchronous transaction after that await, so it sees the message as it is then.
   */
  async edit(
    actor: string,
    messageId: string,
    body: unknown,
    policy?: MessagePolicy,
    now = Date.now(),
  ): Promise<ConvResult<MessageChange>> {
    const p = policy ?? (await this.policies.load(now));
    if (this.meta.has(`erased:${actor}`)) return notFound; // checked after the wait: the erasure may have run
    return this.atomically(() => edit(this.group, actor, messageId, body, p, now));
  }

  /** Recalls a message (its sender within the window; group owner/admins always); a `recall` event goes on the log. */
  async recall(
    actor: string,
    messageId: string,
    policy?: MessagePolicy,
    now = Date.now(),
  ): Promise<ConvResult<MessageChange>> {
    const p = policy ?? (await this.policies.load(now));
    if (this.meta.has(`erased:${actor}`)) return notFound;
    return this.atomically(() => recall(this.group, actor, messageId, p, now));
  }

  /** Recalls a message for moderation (docs/ai.md, Moderation): no member or window check. */
  async recallForModeration(messageId: string, now = Date.now()): Promise<ConvResult<MessageChange>> {
    return this.atomically(() => moderationRecall(this.group, messageId, now));
  }

  /**
   * Erases a member whose account is gone (docs/privacy.md): no send of theirs lands after this
   * (a send still waiting checks again before its append), `anonymize` removes the bodies of
   * everything they wrote (seqs stay), and a group is left (ownership passes on). A direct
   * conversation keeps both members, so the other side keeps its history. Idempotent.
   */
  eraseMember(userId: string, anonymize: boolean, now = Date.now()): { anonymized: number } {
    return this.ctx.storage.transactionSync(() => {
      const sql = this.ctx.storage.sql;
      writeMeta(sql, { [`erased:${userId}`]: String(now) });
      this.meta.set(`erased:${userId}`, String(now));
      const anonymized = anonymize ? anonymizeSender(sql, userId, now) : 0;
      if (this.meta.get("type") === "group" && this.members.has(userId)) leave(this.group, userId, now);
      return { anonymized };
    });
  }

  /** Retention: deletes up to `limit` entries sent before `before` (never the latest); how many. */
  prune(before: number, limit: number): number {
    return pruneBefore(this.ctx.storage.sql, before, limit);
  }

  /** A member who may send: in the conversation and not erased. */
  private canSend(userId: string): boolean {
    return this.members.has(userId) && !this.meta.has(`erased:${userId}`);
  }

  /** Whether a member may read this file: a file message, not recalled, references it (GET …/files/{fileId}). */
  hasFile(userId: string, fileId: string): ConvResult<boolean> {
    if (!this.members.has(userId)) return notFound;
    return ok(hasFileMessage(this.ctx.storage.sql, fileId));
  }

  /** A page of history: `after` pages forward (oldest first), otherwise back from `before`. */
  history(
    userId: string,
    q: { before?: number | undefined; after?: number | undefined; limit: number },
  ): ConvResult<{ items: MessageView[]; more: boolean }> {
    if (!this.members.has(userId)) return notFound;
    const forward = q.after !== undefined;
    const rows = messageRange(this.ctx.storage.sql, this.id, {
      after: q.after ?? 0,
      before: q.before ?? Number.MAX_SAFE_INTEGER,
      limit: q.limit + 1,
      newest: !forward,
    });
    const more = rows.length > q.limit;
    return ok({ items: more ? (forward ? rows.slice(0, q.limit) : rows.slice(1)) : rows, more });
  }

  /** What a reconnecting device missed after `seq`, or a truncation marker when too far behind. */
  since(userId: string, seq: number, max = SYNC_MAX): ConvResult<SinceResult> {
    if (!this.members.has(userId)) return notFound;
    const sql = this.ctx.storage.sql;
    const latest = latestSeq(sql);
    if (latest - seq > max) return ok({ items: [], latestSeq: latest, truncated: true });
    return ok({
      items: messageRange(sql, this.id, { after: seq, before: latest + 1, limit: max, newest: false }),
      latestSeq: latest,
      truncated: false,
    });
  }

  /** Moves a member's read cursor forward (never back, never past the log) and tells the members. */
  read(userId: string, seq: number): ConvResult<{ seq: number }> {
    const me = this.members.get(userId);
    if (!me) return notFound;
    const target = Math.min(seq, latestSeq(this.ctx.storage.sql));
    if (target > me.readSeq) {
      setReadSeq(this.ctx.storage.sql, userId, target);
      me.readSeq = target;
      const frame: ServerFrame = { type: "read", conversationId: this.id, userId, seq: target };
      this.fanout.send(() => this.gateways(), this.members.keys(), JSON.stringify(frame));
    }
    return ok({ seq: me.readSeq });
  }

  /** Forwards a typing indicator to the other members, at most once per TYPING_EVERY_MS per member. */
  typing(userId: string, now = Date.now()): ConvResult<{ forwarded: boolean }> {
    if (!this.members.has(userId)) return notFound;
    if (now - (this.typingAt.get(userId) ?? 0) < TYPING_EVERY_MS) return ok({ forwarded: false });
    this.typingAt.set(userId, now);
    const frame: ServerFrame = { type: "typing", conversationId: this.id, userId };
    const others = [...this.members.keys()].filter((id) => id !== userId);
    this.fanout.send(() => this.gateways(), others, JSON.stringify(frame));
    return ok({ forwarded: true });
  }
}

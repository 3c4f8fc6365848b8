import { z } from "zod";
import { itemInsertSql } from "../../db/tenant/moderation-items";
import { applyOnce } from "../../db/tenant/processed";
import { conversationStub } from "../../durable/protocol/stubs";
import { newId } from "../../lib/ids";
import { classifyText } from "../ai-core/moderation";
import { PoisonError, type Consumer } from "../events/queues";

const Message = z.object({
  conversationId: z.string().min(1).max(64),
  messageId: z.string().min(1).max(64),
  senderId: z.string().min(1).max(64),
  kind: z.string().max(16),
  body: z.unknown(),
});

/** The text of a message the classifier judges: a text's text, a file's caption. */
function textOf(kind: string, body: unknown): string | null {
  const field = kind === "text" ? "text" : kind === "file" ? "caption" : null;
  const value = field && body && typeof body === "object" ? (body as Record<string, unknown>)[field] : null;
  return typeof value === "string" && value.trim() !== "" ? value : null;
}

/**
 * Messages pass the classifier after delivery (docs/ai.md, Moderation): a chat cannot wait for a
 * provider, so the Conversation object keeps the word list inline and this consumer of
 * `message.created` runs the classifier when the tenant enables it, metered to the pool.
 * `block`: the message is recalled for moderation and a blocked item filed (the sender may appeal);
 * `review`: an open item. Once per event (the item and the marker are one batch).
 */
export const messageModerationConsumer: Consumer = async (event, s) => {
  if (!s.tenant.config.ai.moderation.classifier) return;
  const parsed = Message.safeParse(event.data);
  if (!parsed.success) throw new PoisonError("message.created: invalid data");
  const m = parsed.data;
  const text = textOf(m.kind, m.body);
  if (text === null) return;
  const v = await classifyText(
    s,
    text,
    { userId: null, feature: "moderation.auto", degradeWhenExhausted: true },
    () => undefined,
  );
  // A degraded verdict holds nothing: the message was delivered and the word list passed it.
  if (v.decision === "allow" || v.degraded) return;
  const now = Date.now();
  const item = itemInsertSql({
    id: `mi_${newId(now)}`,
    targetType: "message",
    targetId: m.messageId,
    conversationId: m.conversationId,
    authorId: m.senderId,
    excerpt: [...text].slice(0, 280).join(""),
    autoDecision: v.decision,
    categories: v.categories,
    scores: v.scores,
    provider: v.provider,
    degraded: false,
    status: v.decision === "block" ? "blocked" : "open",
    now,
  });
  if (!(await applyOnce(s.db, "message-moderation", event.id, [s.db.run(item)]))) return;
  if (v.decision === "block")
    await conversationStub(s.env, s.tenant.id, m.conversationId).recallForModeration(m.messageId);
};

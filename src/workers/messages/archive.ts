import { z } from "zod";
import { archiveEntry } from "../../db/tenant/archive";
import { PoisonError, type Consumer } from "../events/queues";

const Entry = z.object({
  conversationId: z.string().min(1),
  seq: z.number().int().min(1),
  messageId: z.string().min(1),
  senderId: z.string().min(1),
  kind: z.string().min(1),
  body: z.unknown(),
  sentAt: z.string().datetime(),
});

/**
 * Copies every conversation log entry (`message.created`) into the tenant DB's archive, for
 * search and export. Idempotent by construction (keyed by conversation and seq), so it needs no
 * marker; it rides on the statistics queue, whose batches suit bulk copying.
 */
export const archiveConsumer: Consumer = async (event, { db, tenant }) => {
  if (event.type !== "message.created") return;
  const d = Entry.safeParse(event.data);
  if (!d.success) throw new PoisonError(`bad data for message.created: ${d.error.issues[0]?.message ?? "invalid"}`);
  const e = d.data;
  await archiveEntry(
    db,
    {
      conversationId: e.conversationId,
      seq: e.seq,
      id: e.messageId,
      senderId: e.senderId,
      kind: e.kind,
      body: e.body ?? null,
      sentAt: Date.parse(e.sentAt),
    },
    tenant.config.privacy.messagesOnErasure === "anonymize",
  );
};

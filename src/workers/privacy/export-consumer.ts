import { z } from "zod";
import { PoisonError, type Consumer } from "../events/queues";
import { buildExport } from "./export-build";

const Requested = z.object({ exportId: z.string().min(1).max(64), userId: z.string().min(1).max(64) });

/** Builds the export an `export.requested` event names (idempotent: a built export is skipped). */
export const exportConsumer: Consumer = async (event, s) => {
  if (event.type !== "export.requested") return;
  const d = Requested.safeParse(event.data);
  if (!d.success) throw new PoisonError(`bad data for export.requested: ${d.error.issues[0]?.message ?? "invalid"}`);
  await buildExport(s, d.data.exportId);
};

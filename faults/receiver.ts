/**
 * The tenant's webhook receiver, on 127.0.0.1: a healthy endpoint that answers 200 to every
 * POST and records each arrival by `webhook-id` (the message) and by the event id in its body
 * (`data.id`), after checking the Standard Webhooks signature with the endpoint's secret.
 * docs/webhooks.md promises one message (one webhook-id) per event and endpoint, delivered at
 * least once: the same webhook-id may come again, another webhook-id for the same event may not.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { z } from "zod";

const Payload = z.object({ type: z.string(), data: z.object({ id: z.string(), type: z.string() }).loose() }).loose();

export interface Arrival {
  webhookId: string;
  eventId: string;
  type: string;
  at: number;
  signatureOk: boolean;
}

export class WebhookReceiver {
  private server: Server | null = null;
  private verifier: Webhook | null = null;
  readonly arrivals: Arrival[] = [];
  /** Requests that were not a parsable webhook at all. */
  malformed = 0;

  /** The endpoint's secret (`whsec_…`), known once the endpoint is created. */
  setSecret(secret: string): void {
    this.verifier = new Webhook(secret);
  }

  async listen(): Promise<string> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        this.record(body, req.headers);
        res.writeHead(200, { "content-type": "text/plain" }).end("ok");
      });
    });
    this.server = server;
    const port = await new Promise<number>((resolve) =>
      server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
    );
    return `http://127.0.0.1:${port}/hooks/canopy`;
  }

  private record(body: string, headers: NodeJS.Dict<string | string[]>): void {
    const webhookId = typeof headers["webhook-id"] === "string" ? headers["webhook-id"] : "";
    let parsed: z.infer<typeof Payload>;
    try {
      parsed = Payload.parse(JSON.parse(body));
    } catch {
      this.malformed++;
      return;
    }
    let signatureOk = false;
    try {
      const flat: Record<string, string> = {};
      for (const [k, v] of Object.entries(headers)) if (typeof v === "string") flat[k] = v;
      this.verifier?.verify(body, flat);
      signatureOk = this.verifier !== null;
    } catch {
      signatureOk = false;
    }
    this.arrivals.push({ webhookId, eventId: parsed.data.id, type: parsed.type, at: Date.now(), signatureOk });
  }

  close(): Promise<void> {
    const s = this.server;
    this.server = null;
    return new Promise((resolve) => {
      if (!s) return resolve();
      s.closeAllConnections();
      s.close(() => resolve());
    });
  }
}

/**
 * src/lib/standard-webhooks.ts against the reference implementation (the `standardwebhooks`
 * package, 1.1.1) as oracle both ways: what the reference signs we verify, what we sign the
 * reference verifies, and what either refuses we refuse.
 */
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import {
  newWebhookSecret,
  signature,
  signatureHeaders,
  StandardWebhookError,
  verifyStandardWebhook,
  type StandardWebhookFailure,
} from "../../src/lib/standard-webhooks";

const body = JSON.stringify({ type: "payment.succeeded", data: { amount: 1999, currency: "EUR", note: "café ✓" } });

/** The reference library's signed headers for a message at `ts` (unix seconds). */
function referenceHeaders(secret: string, id: string, ts: number, payload = body): Headers {
  const sig = new Webhook(secret).sign(id, new Date(ts * 1000), payload);
  return new Headers({ "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": sig });
}

async function refusal(p: Promise<unknown>): Promise<StandardWebhookFailure> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StandardWebhookError);
  return (err as StandardWebhookError).reason;
}

const nowMs = Date.UTC(2026, 11, 5, 12, 0, 0);
const nowS = nowMs / 1000;

describe("the reference library and ours agree", () => {
  it("a message signed by Webhook.sign verifies with ours", async () => {
    const secret = newWebhookSecret();
    const headers = referenceHeaders(secret, "msg_1", nowS);
    await expect(verifyStandardWebhook([secret], headers, body, nowMs)).resolves.toEqual({
      id: "msg_1",
      timestamp: nowS,
    });
  });

  it("a message we sign verifies with Webhook.verify (which reads the real clock)", async () => {
    const secret = newWebhookSecret();
    const ts = Math.floor(Date.now() / 1000);
    const headers = await signatureHeaders([secret], "msg_2", ts, body);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(headers["webhook-signature"]).toBe(new Webhook(secret).sign("msg_2", new Date(ts * 1000), body));
  });

  it("during a rotation both secrets' signatures are sent and either receiver verifies", async () => {
    const [current, previous] = [newWebhookSecret(), newWebhookSecret()];
    const ts = Math.floor(Date.now() / 1000);
    const headers = await signatureHeaders([current, previous], "msg_3", ts, body);
    expect(headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    for (const s of [current, previous]) {
      expect(new Webhook(s).verify(body, headers)).toEqual(JSON.parse(body));
      await expect(verifyStandardWebhook([s], new Headers(headers), body, ts * 1000)).resolves.toMatchObject({
        id: "msg_3",
      });
    }
  });

  it("a receiver holding the new and the old secret accepts a message signed with the old one", async () => {
    const [fresh, old] = [newWebhookSecret(), newWebhookSecret()];
    const headers = referenceHeaders(old, "msg_4", nowS);
    await expect(verifyStandardWebhook([fresh, old], headers, body, nowMs)).resolves.toMatchObject({ id: "msg_4" });
  });

  it("the timestamp may be up to the tolerance away in either direction", async () => {
    const secret = newWebhookSecret();
    for (const ts of [nowS - 300, nowS + 300]) {
      await expect(
        verifyStandardWebhook([secret], referenceHeaders(secret, "msg_5", ts), body, nowMs),
      ).resolves.toMatchObject({ timestamp: ts });
    }
  });
});

describe("hostile messages are refused by both", () => {
  const secret = newWebhookSecret();

  it("a body changed by one byte", async () => {
    const headers = referenceHeaders(secret, "msg_t", nowS);
    const tampered = body.replace("1999", "1998");
    expect(await refusal(verifyStandardWebhook([secret], headers, tampered, nowMs))).toBe("no_match");
    const live = await signatureHeaders([secret], "msg_t", Math.floor(Date.now() / 1000), body);
    expect(() => new Webhook(secret).verify(tampered, live)).toThrow();
  });

  it("a timestamp 301 s old, or 301 s in the future", async () => {
    expect(await refusal(verifyStandardWebhook([secret], referenceHeaders(secret, "m", nowS - 301), body, nowMs))).toBe(
      "too_old",
    );
    expect(await refusal(verifyStandardWebhook([secret], referenceHeaders(secret, "m", nowS + 301), body, nowMs))).toBe(
      "too_new",
    );
    const real = Math.floor(Date.now() / 1000);
    for (const ts of [real - 301, real + 301]) {
      const headers = await signatureHeaders([secret], "m", ts, body);
      expect(() => new Webhook(secret).verify(body, headers)).toThrow();
    }
  });

  it("a timestamp that is not an integer", async () => {
    for (const stamp of ["", "12.5", "1e9", "-5", "17649 36000", "0x10", String(nowS) + "a"]) {
      const headers = referenceHeaders(secret, "m", nowS);
      headers.set("webhook-timestamp", stamp);
      const reason = await refusal(verifyStandardWebhook([secret], headers, body, nowMs));
      expect(reason, stamp).toBe(stamp === "" ? "missing_header" : "bad_timestamp");
    }
  });

  it("each missing header", async () => {
    for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
      const headers = referenceHeaders(secret, "m", nowS);
      headers.delete(name);
      expect(await refusal(verifyStandardWebhook([secret], headers, body, nowMs)), name).toBe("missing_header");
      const plain: Record<string, string> = {};
      headers.forEach((value, key) => {
        plain[key] = value;
      });
      expect(() => new Webhook(secret).verify(body, plain)).toThrow();
    }
  });

  it("a message signed with another secret", async () => {
    const other = newWebhookSecret();
    const headers = referenceHeaders(other, "m", nowS);
    expect(await refusal(verifyStandardWebhook([secret], headers, body, nowMs))).toBe("no_match");
    const live = await signatureHeaders([other], "m", Math.floor(Date.now() / 1000), body);
    expect(() => new Webhook(secret).verify(body, live)).toThrow();
  });

  it("a message whose id was changed after signing", async () => {
    const headers = referenceHeaders(secret, "msg_a", nowS);
    headers.set("webhook-id", "msg_b");
    expect(await refusal(verifyStandardWebhook([secret], headers, body, nowMs))).toBe("no_match");
  });

  it("a v0-only signature, even with the right MAC", async () => {
    const v1 = await signature(secret, "m", nowS, body);
    const headers = referenceHeaders(secret, "m", nowS);
    headers.set("webhook-signature", v1.replace(/^v1,/, "v0,"));
    expect(await refusal(verifyStandardWebhook([secret], headers, body, nowMs))).toBe("no_signature");
    const live = await signatureHeaders([secret], "m", Math.floor(Date.now() / 1000), body);
    const liveV0 = { ...live, "webhook-signature": live["webhook-signature"]!.replace(/^v1,/, "v0,") };
    expect(() => new Webhook(secret).verify(body, liveV0)).toThrow();
  });

  it("garbage signatures: not base64, empty, a bare v1", async () => {
    // (Headers trims values, so a blank header is a missing one.)
    for (const sig of ["v1,", "v1,!!!not-base64!!!", "v1", "v1,AAAA", "v1, v1,"]) {
      const headers = referenceHeaders(secret, "m", nowS);
      headers.set("webhook-signature", sig);
      const reason = await refusal(verifyStandardWebhook([secret], headers, body, nowMs));
      expect(["no_match", "no_signature"], sig).toContain(reason);
    }
  });

  it("a secret that is not a whsec_ secret, and no secret at all", async () => {
    const headers = referenceHeaders(secret, "m", nowS);
    expect(await refusal(verifyStandardWebhook([secret.slice("whsec_".length)], headers, body, nowMs))).toBe(
      "bad_secret",
    );
    expect(await refusal(verifyStandardWebhook([secret, "sk_live_x"], headers, body, nowMs))).toBe("bad_secret");
    expect(await refusal(verifyStandardWebhook([], headers, body, nowMs))).toBe("bad_secret");
    for (const bad of ["whsec_", "whsec_not base64!"]) {
      expect(await refusal(verifyStandardWebhook([bad], headers, body, nowMs)), bad).toBe("bad_secret");
    }
  });
});

describe("several signatures in one header", () => {
  const secret = newWebhookSecret();

  it("the second of several signatures matching is enough, other versions are ignored", async () => {
    const good = await signature(secret, "m", nowS, body);
    const wrong = await signature(newWebhookSecret(), "m", nowS, body);
    const headers = referenceHeaders(secret, "m", nowS);
    headers.set("webhook-signature", `${wrong} ${good}`);
    await expect(verifyStandardWebhook([secret], headers, body, nowMs)).resolves.toMatchObject({ id: "m" });
    headers.set("webhook-signature", `v0,${good.slice(3)} v1a,whatever ${good}`);
    await expect(verifyStandardWebhook([secret], headers, body, nowMs)).resolves.toMatchObject({ id: "m" });
    // The reference agrees on the same header shape.
    const ts = Math.floor(Date.now() / 1000);
    const liveGood = await signature(secret, "m", ts, body);
    const liveWrong = await signature(newWebhookSecret(), "m", ts, body);
    const live = {
      "webhook-id": "m",
      "webhook-timestamp": String(ts),
      "webhook-signature": `${liveWrong} ${liveGood}`,
    };
    expect(new Webhook(secret).verify(body, live)).toEqual(JSON.parse(body));
  });

  it("several signatures none of which match are refused", async () => {
    const wrongs = await Promise.all([1, 2, 3].map(() => signature(newWebhookSecret(), "m", nowS, body)));
    const headers = referenceHeaders(secret, "m", nowS);
    headers.set("webhook-signature", wrongs.join(" "));
    expect(await refusal(verifyStandardWebhook([secret], headers, body, nowMs))).toBe("no_match");
  });
});

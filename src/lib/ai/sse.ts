/**
 * Reading a model's streamed answer: both remote providers receive server-sent events (OpenAI's
 * `chat.completion.chunk`s over fetch, Workers AI's `{"response":…}` frames from the binding), each
 * ending with `data: [DONE]`. Parsing is `eventsource-parser`'s; what is ours is the ending: a
 * stream that stops before `[DONE]` is a dropped stream, which is transient, never a short answer.
 */
import { createParser } from "eventsource-parser";
import { ProviderError } from "./provider";

/**
 * Yields the `data` of each event up to `[DONE]` (which ends the iteration). A body that ends
 * before `[DONE]` throws a transient ProviderError; a read that fails (a dropped connection, an
 * abort) throws what the read threw; `signal` aborting cancels the body. A consumer that stops
 * early cancels it too, which closes the connection instead of leaving it to the garbage collector.
 */
export async function* sseData(
  body: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<string, void, undefined> {
  const reader = body.getReader();
  // fetch's body already obeys its signal; a binding's stream may not, so the abort cancels the read.
  const cancel = () => void reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener("abort", cancel, { once: true });
  const decoder = new TextDecoder();
  const pending: string[] = [];
  const parser = createParser({ onEvent: (event) => pending.push(event.data) });
  try {
    for (;;) {
      const { value, done } = await reader.read();
      // The decoder's flush, then a blank line: a last event without its closing blank line counts.
      parser.feed(done ? `${decoder.decode()}\n\n` : decoder.decode(value, { stream: true }));
      for (let data = pending.shift(); data !== undefined; data = pending.shift()) {
        if (data === "[DONE]") return;
        yield data;
      }
      if (done) break;
    }
    if (signal?.aborted) throw signal.reason;
    throw new ProviderError("the model's stream ended before [DONE] (dropped)", true);
  } finally {
    signal?.removeEventListener("abort", cancel);
    // Harmless on a body read to its end; on one left early it closes the connection.
    void reader.cancel().catch(() => {});
  }
}

/** JSON of one event's data; malformed data is a transient failure (a proxy cut a frame, a model glitched). */
export function eventJson(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    throw new ProviderError("the model's stream sent an event that is not JSON", true);
  }
}

/**
 * What a failure during a provider call becomes: the caller's abort stays the abort (its reason,
 * e.g. a TimeoutError from `AbortSignal.timeout`), a ProviderError stays itself, anything else
 * (a refused connection, a reset stream) is a transient ProviderError.
 */
export function providerFailure(err: unknown, signal: AbortSignal, what: string): unknown {
  if (signal.aborted) return signal.reason;
  if (err instanceof ProviderError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new ProviderError(`${what} failed: ${detail}`, true);
}

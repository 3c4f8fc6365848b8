import { chatInputTokens, LOCAL_MODEL, localAnswer } from "../../lib/ai/local";
import { type ChatChunk, type ChatRequest, ProviderError } from "../../lib/ai/provider";
import { countTokens, tokenPieces } from "../../lib/ai/tokens";
import { AppError } from "../../lib/errors";
import { providerFor } from "../ai-core/providers";
import { isUnavailable } from "../ai-core/resilience";
import type { TenantScope } from "../gateway/context";
import type { DoneFrame } from "./chat-schemas";

/** Where the frames of a turn go (the route writes them as server-sent events). */
export interface FrameSink {
  delta(text: string): Promise<void>;
  done(frame: DoneFrame): Promise<void>;
  error(err: AppError): Promise<void>;
}

/** How a streamed answer ended, and what it used. */
export interface Answer {
  text: string;
  /** `done`: to the end; `error`: the provider failed after the first delta; `aborted`: the client left. */
  ended: "done" | "error" | "aborted";
  answered: boolean;
  /** Retrieved articles the answer draws on. */
  sourceIds: string[];
  units: number;
  inputTokens: number;
  outputTokens: number;
  provider: string;
  model: string | null;
  degraded?: boolean;
}

/**
 * Streams one answer from the tenant's chat provider into `sink`. Only the start, up to the first
 * chunk, runs under the provider's policy (breaker, retry, 10 s timeout): a retry is safe until
 * something reached the client. A failure before the first delta degrades to the local
 * extractive answer (`degraded`, not charged); after it, the sink gets an `error` frame and the
 * answer is what was produced; so does a provider silent for `ai.chat.idleTimeoutMs` between chunks. The client
 * leaving (`signal`) aborts the provider call.
 */
export async function streamAnswer(
  s: TenantScope,
  req: ChatRequest,
  question: string,
  sink: FrameSink,
  signal: AbortSignal,
): Promise<Answer> {
  const chosen = await providerFor(s, "chat");
  const { name, model } = chosen.provider;
  // Sources: the local provider quotes sentences of known articles; a model read all of them.
  const cited = () =>
    name === "local" ? localAnswer(question, req.sources, req.maxOutputTokens).sourceIds : req.sources.map((x) => x.id);
  const spent = (text: string, usage?: { inputTokens: number; outputTokens: number }) => {
    const inputTokens = usage?.inputTokens ?? chatInputTokens(req);
    const outputTokens = usage?.outputTokens ?? countTokens(text);
    return { inputTokens, outputTokens, units: inputTokens + outputTokens, provider: name, model };
  };

  let iterator: AsyncIterator<ChatChunk> | undefined;
  let stream: AbortController | undefined;
  let first: IteratorResult<ChatChunk>;
  try {
    first = await chosen.run(async (p, policy) => {
      // The attempt ends with the policy's signal (timeout, retry) or the client's; once the
      // first chunk is in, only the client's, since the policy aborts its signal on return.
      const attempt = new AbortController();
      stream = attempt;
      const onPolicy = () => attempt.abort(policy.reason);
      policy.addEventListener("abort", onPolicy);
      signal.addEventListener("abort", () => attempt.abort(signal.reason), { once: true });
      try {
        const it = p.chat(req, attempt.signal)[Symbol.asyncIterator]();
        const r = await it.next();
        iterator = it;
        return r;
      } finally {
        policy.removeEventListener("abort", onPolicy);
      }
    });
  } catch (err) {
    if (signal.aborted) return { text: "", ended: "aborted", answered: true, sourceIds: [], ...spent("") };
    if (!isUnavailable(err)) throw err;
    console.warn(JSON.stringify({ msg: "chat provider unavailable, local answer", error: String(err) }));
    return degraded(req, question, sink, signal);
  }

  let produced = "";
  let usage: { inputTokens: number; outputTokens: number } | undefined;
  try {
    const idleMs = s.tenant.config.ai.chat.idleTimeoutMs;
    const next = () => within(idleMs, (iterator as AsyncIterator<ChatChunk>).next(), () => stream?.abort(idle(idleMs)));
    for (let r = first; !r.done && !signal.aborted; r = await next()) {
      const chunk = r.value;
      if ("usage" in chunk) usage = chunk.usage;
      else if (chunk.delta !== "") {
        produced += chunk.delta;
        await sink.delta(chunk.delta);
      }
    }
  } catch (err) {
    if (!signal.aborted) {
      if (produced === "" && isUnavailable(err)) return degraded(req, question, sink, signal);
      console.warn(JSON.stringify({ msg: "chat stream failed", error: String(err) }));
      await sink.error(new AppError("ai_provider_unavailable", "The assistant's provider failed mid-answer."));
      return { text: produced, ended: "error", answered: true, sourceIds: cited(), ...spent(produced) };
    }
  }
  if (signal.aborted) {
    await iterator?.return?.().catch(() => undefined);
    return { text: produced, ended: "aborted", answered: true, sourceIds: cited(), ...spent(produced) };
  }
  return { text: produced, ended: "done", answered: produced !== "", sourceIds: cited(), ...spent(produced, usage) };
}

const idle = (ms: number) => new ProviderError(`no chunk for ${ms} ms`, true);

/** `p`, or a rejection after `ms` (calling `onTimeout` first, to abort what `p` waits on). */
function within<T>(ms: number, p: Promise<T>, onTimeout: () => void): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(idle(ms));
    }, ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** The local extractive answer over the retrieved passages, streamed token by token; not charged. */
async function degraded(req: ChatRequest, question: string, sink: FrameSink, signal: AbortSignal): Promise<Answer> {
  const { text, sourceIds } = localAnswer(question, req.sources, req.maxOutputTokens);
  let produced = "";
  for (const piece of tokenPieces(text)) {
    if (signal.aborted) break;
    produced += piece;
    await sink.delta(piece);
  }
  return {
    text: produced,
    ended: signal.aborted ? "aborted" : "done",
    answered: produced !== "",
    sourceIds,
    units: 0,
    inputTokens: 0,
    outputTokens: 0,
    provider: "local",
    model: LOCAL_MODEL,
    degraded: true,
  };
}

/**
 * Requests the Worker sends to itself, in process: a fetch to its own host would leave the
 * isolate (and, locally, reach nothing). The gateway installs its app here once; a service that
 * must go through the whole HTTP path (the sandbox payment provider delivering its signed
 * webhook, docs/commerce.md) dispatches through it without importing the gateway.
 */
export type Dispatch = (req: Request, env: Env, ctx: ExecutionContext) => Response | Promise<Response>;

let dispatch: Dispatch | undefined;

/** Installs the app's fetch (gateway/app.ts, once per isolate). */
export function installSelfDispatch(d: Dispatch): void {
  dispatch = d;
}

/** Sends a request through the Worker's own HTTP app. */
export async function selfFetch(req: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  if (!dispatch) throw new Error("the app has not installed its dispatcher");
  return dispatch(req, env, ctx);
}

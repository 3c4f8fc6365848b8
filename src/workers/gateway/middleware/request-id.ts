// A client's X-Request-Id is kept only when it is short and plain, so logs cannot be forged
// or bloated through it; anything else is replaced by a fresh id.
const SANE = /^[A-Za-z0-9._:-]{8,128}$/;

/** The request id: the client's X-Request-Id when sane, else a fresh UUID. */
export function pickRequestId(incoming: string | undefined): string {
  return incoming && SANE.test(incoming) ? incoming : crypto.randomUUID();
}

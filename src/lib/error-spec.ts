/** One entry of the error registry (src/lib/error-codes.ts). */
export interface ErrorSpec {
  readonly status: 400 | 401 | 402 | 403 | 404 | 405 | 408 | 409 | 410 | 413 | 415 | 422 | 426 | 429 | 500 | 502 | 503;
  readonly title: string;
  readonly description: string;
}

export const e = (status: ErrorSpec["status"], title: string, description: string): ErrorSpec => ({
  status,
  title,
  description,
});

/** The one export of workerd's built-in `cloudflare:workers` module the bare Worker uses (typed for the bench's Node tsconfig). */
declare module "cloudflare:workers" {
  export class DurableObject<Env = unknown> {
    constructor(ctx: unknown, env: Env);
  }
}

/**
 * CLI: `tsx tools/libsql-server/main.ts [--port 8080] [--host 127.0.0.1] [--data .canopy/libsql]
 * [--secret S | env LIBSQL_SERVER_SECRET]`. Prints `libsql server listening on <origin>` once
 * ready; SIGINT/SIGTERM stop it gracefully (open transactions are rolled back) and exit 0.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { startServer } from "./server.js";

function fail(message: string): never {
  process.stderr.write(`libsql server: ${message}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: "string", default: "8080" },
        host: { type: "string", default: "127.0.0.1" },
        data: { type: "string", default: ".canopy/libsql" },
        secret: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
    }));
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  if (values.help) {
    process.stdout.write(
      "usage: tsx tools/libsql-server/main.ts [--port 8080] [--host 127.0.0.1] [--data .canopy/libsql] [--secret S]\n" +
        "The secret may also come from LIBSQL_SERVER_SECRET.\n",
    );
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`invalid --port ${values.port}`);
  const secret = values.secret ?? process.env.LIBSQL_SERVER_SECRET ?? "";
  if (secret === "") fail("a secret is required (--secret or LIBSQL_SERVER_SECRET)");

  const server = await startServer({ host: values.host, port, dataDir: resolve(values.data), secret });
  process.stdout.write(`libsql server listening on ${server.origin}\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`libsql server: ${signal}, shutting down\n`);
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`libsql server: error while closing: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));

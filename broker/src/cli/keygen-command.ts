/**
 * `ztb keygen [--out PREFIX] [--force]`: writes a CURVE key pair as ZeroMQ certificates (format in
 * broker/src/security/keys.ts) and prints the public key.
 * Exit codes: 0 written, 1 the files could not be written, 2 usage error or files exist without --force.
 */
import { parseArgs } from "node:util";
import { KeyFileExistsError, generateKeyPair, writeKeyPair } from "../security";

const USAGE = `Usage: ztb keygen [--out PREFIX] [--force]

Generate a CURVE key pair (Z85) for the broker, a worker, a client or a monitor.

  -o, --out PREFIX   write PREFIX.key (public certificate, mode 0644) and
                     PREFIX.key_secret (secret certificate, mode 0600); default "ztb"
  -f, --force        overwrite existing files
  -h, --help         show this help

The public key is printed on the first line of the output.
Broker:  ztb broker --curve-secret broker.key_secret --client-keys DIR --worker-keys DIR [--admin-keys DIR]
Peers:   --curve-key NAME.key_secret --server-key broker.key
Allow a peer by copying its NAME.key into the broker's key directory (or its key into a list file), then send
the broker SIGHUP.
`;

export interface CommandIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

export async function runKeygenCommand(argv: readonly string[], io: CommandIo = process): Promise<number> {
  let values: { out?: string; force?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        out: { type: "string", short: "o" },
        force: { type: "boolean", short: "f" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    io.stderr.write(`ztb keygen: ${(error as Error).message.split("\n")[0]} (see ztb keygen --help)\n`);
    return 2;
  }
  if (values.help === true) {
    io.stdout.write(USAGE);
    return 0;
  }
  const prefix = values.out ?? "ztb";
  if (prefix === "" || prefix.endsWith("/")) {
    io.stderr.write(`ztb keygen: --out needs a file name prefix, not ${JSON.stringify(prefix)}\n`);
    return 2;
  }
  const pair = generateKeyPair();
  try {
    const written = await writeKeyPair(prefix, pair, values.force === true);
    io.stdout.write(
      `${pair.publicKey}\n` +
        `wrote ${written.publicFile} (public: add it to the broker's allow-list, or give it to peers as --server-key)\n` +
        `wrote ${written.secretFile} (secret, mode 0600: --curve-secret for the broker, --curve-key for a peer)\n`,
    );
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`ztb keygen: ${message}\n`);
    return error instanceof KeyFileExistsError ? 2 : 1;
  }
}

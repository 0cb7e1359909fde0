/**
 * CURVE on the broker's sockets (protocol/spec.md §Security): the broker's key pair, the allow-lists and the ZAP
 * handler, behind one object the server and the CLI use.
 *
 * Integration (server): build it with `BrokerSecurity.load(...)`, `await security.start()` before binding anything,
 * call `applyServerSecurity(socket, role, security)` on each socket before its `bind`, and `await security.close()`
 * after closing the sockets. On SIGHUP the CLI calls `BrokerServer.reloadKeys`, which reloads and stops serving revoked keys.
 */
import type { Context, Socket } from "zeromq";
import type { CurveKeyPair } from "./keys";
import { loadKeyPair, secretFileExposure } from "./keys";
import type { AllowListSizes, KeyListName, SecurityRole } from "./key-policy";
import { AllowListError, KEY_LISTS, KeyPolicy, SECURITY_ROLES } from "./key-policy";
import { ConnectionKeys } from "./connection-keys";
import { SecurityOptionError } from "./peer-security";
import type { ZapRefusal, ZapStats } from "./zap-handler";
import { ZapHandler } from "./zap-handler";

/** The broker CLI's security options (file paths). */
export interface BrokerSecurityConfig {
  /** --curve-secret: the broker's NAME.key_secret. */
  curveSecret: string;
  /** --client-keys, --worker-keys, --admin-keys: a file or a directory each; absent = that endpoint refuses everyone. */
  clientKeys?: string;
  workerKeys?: string;
  adminKeys?: string;
}

export interface BrokerSecurityOptions {
  /** The context the broker's sockets are created in (ZAP is per context). Default: zeromq.js's global context. */
  context?: Context;
  /** Refused handshakes, throttled per key (see ZapHandler); the broker logs them. */
  onRefusal?: (refusal: ZapRefusal) => void;
  onError?: (error: unknown) => void;
}

export const KEY_LIST_OPTION: Readonly<Record<KeyListName, string>> = {
  client: "--client-keys",
  worker: "--worker-keys",
  admin: "--admin-keys",
};

const LIST_FIELD: Readonly<Record<KeyListName, "clientKeys" | "workerKeys" | "adminKeys">> = {
  client: "clientKeys",
  worker: "workerKeys",
  admin: "adminKeys",
};

const DENIED_EVERYONE: Readonly<Record<KeyListName, string>> = {
  client: "the clients endpoint refuses every client",
  worker: "the workers and answers endpoints refuse every worker",
  admin: "the admin endpoint refuses every monitor",
};

function optionError(error: unknown): Error {
  if (error instanceof AllowListError) return new SecurityOptionError(KEY_LIST_OPTION[error.list], error.detail);
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * The CLI's view: undefined when --curve-secret is not given (CURVE off); an allow-list option without it is a
 * SecurityOptionError, since it would silently protect nothing.
 */
export async function brokerSecurityFromOptions(
  config: Partial<BrokerSecurityConfig>,
  options: BrokerSecurityOptions = {},
): Promise<BrokerSecurity | undefined> {
  const { curveSecret, ...lists } = config;
  if (curveSecret === undefined) {
    const stray = KEY_LISTS.find((list) => lists[LIST_FIELD[list]] !== undefined);
    if (stray === undefined) return undefined;
    throw new SecurityOptionError(KEY_LIST_OPTION[stray], new Error("needs --curve-secret FILE (the broker's NAME.key_secret)"));
  }
  return BrokerSecurity.load({ curveSecret, ...lists }, options);
}

export class BrokerSecurity {
  private readonly zap: ZapHandler;
  /** The key of each connection, for revocation at reload (see ConnectionKeys); the server feeds it connect notices. */
  readonly connections = new ConnectionKeys();

  /** A one-line warning when the --curve-secret file is readable by group or others (see secretFileExposure). */
  secretFileWarning: string | undefined;

  constructor(
    private readonly keys: CurveKeyPair,
    readonly policy: KeyPolicy,
    options: BrokerSecurityOptions = {},
  ) {
    this.zap = new ZapHandler({
      authorizer: policy,
      context: options.context,
      onRefusal: options.onRefusal,
      onError: options.onError,
      expect: (domain, key) => this.connections.expect(domain, key),
    });
  }

  /** Reads every file; errors are one line naming the option, e.g. `--client-keys /x: line 3 is not a Z85 public key`. */
  static async load(config: BrokerSecurityConfig, options: BrokerSecurityOptions = {}): Promise<BrokerSecurity> {
    const keys = await loadKeyPair(config.curveSecret).catch((error: Error) => {
      throw new SecurityOptionError("--curve-secret", error);
    });
    const policy = await KeyPolicy.load({
      client: config[LIST_FIELD.client],
      worker: config[LIST_FIELD.worker],
      admin: config[LIST_FIELD.admin],
    }).catch((error: unknown) => {
      throw optionError(error);
    });
    const security = new BrokerSecurity(keys, policy, options);
    security.secretFileWarning = await secretFileExposure(config.curveSecret);
    return security;
  }

  /** The broker's public key: what workers and clients pass as --server-key. */
  get publicKey(): string {
    return this.keys.publicKey;
  }

  get context(): Context {
    return this.zap.context;
  }

  /** Starts the ZAP handler; call before binding any socket (RFC 27 §Architecture). */
  async start(): Promise<void> {
    await this.zap.start();
  }

  async close(): Promise<void> {
    await this.zap.close();
  }

  /** Re-reads the allow-lists (SIGHUP). On error (one line, naming the option) the previous lists stay in force. */
  async reload(): Promise<AllowListSizes> {
    return this.policy.reload().catch((error: unknown) => {
      throw optionError(error);
    });
  }

  get stats(): Readonly<ZapStats> {
    return this.zap.stats;
  }

  /** One line per allow-list that is empty: CURVE fails closed, so its endpoints accept nobody. */
  warnings(): string[] {
    const sizes = this.policy.sizes();
    return KEY_LISTS.filter((list) => sizes[list] === 0).map(
      (list) => `${KEY_LIST_OPTION[list]} ${this.policy.sources[list] === undefined ? "not given" : "is empty"}: ${DENIED_EVERYONE[list]}`,
    );
  }

  /** See applyServerSecurity. */
  apply(socket: Socket, role: SecurityRole): void {
    if (!SECURITY_ROLES.includes(role)) throw new RangeError(`unknown security role ${String(role)}`);
    if (socket.context !== this.zap.context) {
      // The ZAP handler only answers sockets of its own context; elsewhere every handshake would fail.
      throw new Error(`the ${role} socket is not in the context of the broker's ZAP handler`);
    }
    socket.curveServer = true;
    socket.curveSecretKey = this.keys.secretKey;
    socket.zapDomain = role;
    // Without this libzmq lets every CURVE peer in when no ZAP handler answers (measured with libzmq 4.3.5):
    // enforcing the domain makes a missing or stopped handler refuse instead.
    socket.zapEnforceDomain = true;
  }
}

/**
 * Makes a broker socket a CURVE server whose peers are checked against the allow-list of `role` (its ZAP domain):
 * ZMQ_CURVE_SERVER, ZMQ_CURVE_SECRETKEY, ZMQ_ZAP_DOMAIN, ZMQ_ZAP_ENFORCE_DOMAIN. Call before `bind`.
 */
export function applyServerSecurity(socket: Socket, role: SecurityRole, security: BrokerSecurity): void {
  security.apply(socket, role);
}

/**
 * Who may connect to which broker endpoint (protocol/spec.md §Security): a CURVE public key per allow-list, and the
 * ZAP domain of each broker socket naming the list that applies to it.
 *
 * | socket (ZAP domain) | allow-list     |
 * |---------------------|----------------|
 * | clients             | --client-keys  |
 * | workers             | --worker-keys  |
 * | answers             | --worker-keys  | (legacy workers' PUSH sockets are workers too)
 * | admin               | --admin-keys   |
 *
 * A list that was not given is empty: its endpoint refuses everyone (CURVE on means fail closed). Only the CURVE
 * mechanism is accepted; an unknown domain is refused.
 */
import type { AllowList } from "./keys";
import { loadAllowList } from "./keys";
import type { ZapAuthorizer, ZapDecision, ZapRequest } from "./zap-handler";
import { z85Encode } from "./z85";

export const SECURITY_ROLES = ["clients", "workers", "answers", "admin"] as const;
/** A broker socket, and the ZAP domain it is given. */
export type SecurityRole = (typeof SECURITY_ROLES)[number];

export const KEY_LISTS = ["client", "worker", "admin"] as const;
export type KeyListName = (typeof KEY_LISTS)[number];

export const LIST_OF_ROLE: Readonly<Record<SecurityRole, KeyListName>> = {
  clients: "client",
  workers: "worker",
  answers: "worker",
  admin: "admin",
};

/** The file or directory of each allow-list (the CLI's --client-keys, --worker-keys, --admin-keys). */
export type AllowListSources = Partial<Record<KeyListName, string>>;

export type AllowListSizes = Record<KeyListName, number>;

/** Thrown by load/reload; `list` says which option was at fault, the message is the key file's one-line error. */
export class AllowListError extends Error {
  constructor(
    readonly list: KeyListName,
    readonly detail: Error,
  ) {
    super(detail.message);
    this.name = "AllowListError";
  }
}

const isRole = (domain: string): domain is SecurityRole => (SECURITY_ROLES as readonly string[]).includes(domain);

async function loadAll(sources: AllowListSources): Promise<Record<KeyListName, AllowList>> {
  const lists: Partial<Record<KeyListName, AllowList>> = {};
  for (const name of KEY_LISTS) {
    const source = sources[name];
    try {
      lists[name] = source === undefined ? new Map() : await loadAllowList(source);
    } catch (error) {
      throw new AllowListError(name, error instanceof Error ? error : new Error(String(error)));
    }
  }
  return lists as Record<KeyListName, AllowList>;
}

export class KeyPolicy implements ZapAuthorizer {
  /** Lists that lost at least one key at the last reload. */
  private shrunk = new Set<KeyListName>();

  private constructor(
    readonly sources: Readonly<AllowListSources>,
    private lists: Record<KeyListName, AllowList>,
  ) {}

  static async load(sources: AllowListSources): Promise<KeyPolicy> {
    return new KeyPolicy({ ...sources }, await loadAll(sources));
  }

  /** A policy over lists already in memory (tests, embedders). */
  static fromLists(lists: Partial<Record<KeyListName, Iterable<string>>>): KeyPolicy {
    const build = (keys: Iterable<string> | undefined): AllowList => new Map([...(keys ?? [])].map((k) => [k, k]));
    return new KeyPolicy({}, { client: build(lists.client), worker: build(lists.worker), admin: build(lists.admin) });
  }

  /**
   * Re-reads every list from its source (on SIGHUP). All or nothing: if any file is bad, the error is thrown and the
   * lists in force stay as they were. ZAP is asked at handshake time only: the broker itself stops serving
   * connections whose key a reload removed (BrokerServer.reloadKeys).
   */
  async reload(): Promise<AllowListSizes> {
    const lists = await loadAll(this.sources);
    this.shrunk = new Set(KEY_LISTS.filter((name) => [...this.lists[name].keys()].some((key) => !lists[name].has(key))));
    this.lists = lists;
    return this.sizes();
  }

  /** Whether `key` may connect to the endpoint of `role` now. */
  allows(role: SecurityRole, key: string): boolean {
    return this.lists[LIST_OF_ROLE[role]].has(key);
  }

  /** Whether the last reload removed a key from the list of `role`. */
  lostKeys(role: SecurityRole): boolean {
    return this.shrunk.has(LIST_OF_ROLE[role]);
  }

  sizes(): AllowListSizes {
    return { client: this.lists.client.size, worker: this.lists.worker.size, admin: this.lists.admin.size };
  }

  authorize(request: ZapRequest): ZapDecision {
    if (!isRole(request.domain)) return refuse(`unknown ZAP domain ${JSON.stringify(request.domain)}`);
    if (request.mechanism !== "CURVE") return refuse(`mechanism ${request.mechanism} is not allowed, CURVE is required`);
    const credential = request.credentials[0];
    if (credential?.length !== 32) return refuse("malformed CURVE credentials");
    const key = z85Encode(credential);
    const list = LIST_OF_ROLE[request.domain];
    if (!this.lists[list].has(key)) return refuse(`key not in the ${list} allow-list`);
    // The Z85 key as user id: ASCII, unique, and what an operator greps the allow-list files for.
    return { allowed: true, userId: key, reason: "allowed" };
  }
}

function refuse(reason: string): ZapDecision {
  return { allowed: false, userId: "", reason };
}

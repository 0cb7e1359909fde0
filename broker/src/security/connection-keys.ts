/**
 * Which CURVE key each broker connection authenticated with, so that a SIGHUP that takes a key out of its allow-list
 * can stop serving the connections already made with it (protocol/spec.md §Security, revocation).
 *
 * libzmq tells the ZAP handler a connection's key but not its routing id, and zeromq.js gives the ROUTER the routing
 * id but not the key (it has no zmq_msg_gets for the User-Id property). The two are joined by order: on a ROUTER
 * with ZMQ_ROUTER_NOTIFY, an allowed handshake ends with a connect notice `[routing-id, ""]`. The ZAP handler answers
 * one allowed handshake per ROUTER domain at a time and waits for that notice (or CONNECT_WAIT_MS) before answering
 * the next, so the next notice on that socket belongs to the key it just allowed. A notice that arrives when nothing
 * is awaited binds the connection to an unknown key (null): it happens only when a handshake outlived the wait.
 *
 * The answers endpoint is a PULL socket: no routing ids, no notices. Its keys are only remembered as a set, so that a
 * revocation can tell whether one of them may still be connected there.
 */

/** The ROUTER domains whose connections are bound to keys. */
export const ROUTER_DOMAINS = ["clients", "workers", "admin"] as const;
export type RouterDomain = (typeof ROUTER_DOMAINS)[number];

/**
 * How long the ZAP handler waits for an allowed connection's connect notice before answering the next handshake.
 * The notice follows the ZAP reply by one trip through libzmq's I/O thread and the broker's event loop (well under a
 * millisecond when idle); the bound matters only when a peer dies between its ZAP reply and its first message.
 */
export const CONNECT_WAIT_MS = 1000;

interface Awaited {
  key: string;
  done: () => void;
}

/** A connection whose key is no longer allowed; `key` null when it was never known (see the file comment). */
export interface RevokedConnection {
  domain: RouterDomain;
  peer: string;
  key: string | null;
}

const isRouterDomain = (domain: string): domain is RouterDomain => (ROUTER_DOMAINS as readonly string[]).includes(domain);

export class ConnectionKeys {
  private readonly awaited = new Map<RouterDomain, Awaited>();
  private readonly keys = new Map<RouterDomain, Map<string, string | null>>();
  private readonly answerKeys = new Set<string>();
  /** Domains whose ROUTER reports connects (set by the server once bound); others are not waited for. */
  private readonly tracked = new Set<RouterDomain>();

  /** The server's ROUTER for `domain` has ZMQ_ROUTER_NOTIFY on and reports its notices to `connected`. */
  track(domain: RouterDomain): void {
    this.tracked.add(domain);
  }

  /**
   * Called by the ZAP handler for an allowed handshake, before it sends the reply; it waits for the returned promise
   * after sending it. Resolves at the connection's notice, or after CONNECT_WAIT_MS.
   */
  expect(domain: string, key: string): Promise<void> {
    if (domain === "answers") {
      this.answerKeys.add(key);
      return Promise.resolve();
    }
    if (!isRouterDomain(domain) || !this.tracked.has(domain)) return Promise.resolve();
    this.awaited.get(domain)?.done();
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(), CONNECT_WAIT_MS);
      timer.unref();
      const finish = (): void => {
        clearTimeout(timer);
        if (this.awaited.get(domain) === entry) this.awaited.delete(domain);
        resolve();
      };
      const entry: Awaited = { key, done: finish };
      this.awaited.set(domain, entry);
    });
  }

  /**
   * A connect notice from `peer` on `domain`'s ROUTER: the connection gets the key its handshake was allowed with.
   * libzmq delivers it before anything else from that connection, so a later one is the peer's own empty message made
   * to look like a notice: it changes nothing (a peer cannot take another connection's key). False for such a one.
   */
  connected(domain: RouterDomain, peer: string): boolean {
    const peers = this.peers(domain);
    if (peers.has(peer)) return false;
    const entry = this.awaited.get(domain);
    peers.set(peer, entry?.key ?? null);
    entry?.done();
    return true;
  }

  /** The connection of `peer` ended (ZMQ_DISCONNECT_MSG). */
  disconnected(domain: RouterDomain, peer: string): void {
    this.keys.get(domain)?.delete(peer);
  }

  keyOf(domain: RouterDomain, peer: string): string | null | undefined {
    return this.keys.get(domain)?.get(peer);
  }

  /**
   * The connections to stop serving after a reload: those whose key `allows` refuses now, and, on a domain where
   * `removedFrom(domain)` says keys were taken away, those whose key is unknown (fail closed). They are forgotten here.
   */
  revoke(allows: (domain: RouterDomain, key: string) => boolean, removedFrom: (domain: RouterDomain) => boolean): RevokedConnection[] {
    const revoked: RevokedConnection[] = [];
    for (const [domain, peers] of this.keys) {
      for (const [peer, key] of peers) {
        if (key === null ? removedFrom(domain) : !allows(domain, key)) revoked.push({ domain, peer, key });
      }
    }
    for (const { domain, peer } of revoked) this.keys.get(domain)?.delete(peer);
    return revoked;
  }

  /**
   * True when a key that connected to the answers endpoint is refused now; the set is then emptied (the server
   * re-binds that endpoint, and every legacy worker's PUSH connects again through ZAP).
   */
  answersRevoked(allows: (key: string) => boolean): boolean {
    const any = [...this.answerKeys].some((key) => !allows(key));
    if (any) this.answerKeys.clear();
    return any;
  }

  private peers(domain: RouterDomain): Map<string, string | null> {
    let peers = this.keys.get(domain);
    if (peers === undefined) {
      peers = new Map();
      this.keys.set(domain, peers);
    }
    return peers;
  }
}

/**
 * Revoked keys lose their connections (protocol/spec.md §Security): the shell's part. libzmq asks ZAP only at
 * handshake time and offers no way to close one ROUTER peer's connection, so after a reload the broker stops serving
 * each connection whose key left its allow-list: the core is told once (`revoked` input: a worker is lost, a client's
 * tasks are cancelled, a monitor's subscriptions end), and from then on the peer's messages are dropped on arrival and
 * nothing is sent to it, until its connection ends. A modern worker that hears no heartbeat reconnects, and ZAP then
 * refuses it, which closes the connection for good.
 */
import type { Endpoint, Input, PeerKey } from "../core/api";
import type { AllowListSizes, BrokerSecurity, RouterDomain } from "../security";
import type { Logger } from "./logger";
import { showPeer } from "./peer-keys";

export interface ReloadOutcome {
  sizes: AllowListSizes;
  /** One `revoked` input per connection to stop serving, for the core. */
  inputs: Input[];
  /** A key that connected to the answers endpoint was revoked: re-bind it (PULL peers cannot be told apart). */
  rebindAnswers: boolean;
}

const ROUTER_ENDPOINT: Partial<Record<Endpoint, RouterDomain>> = { clients: "clients", workers: "workers", admin: "admin" };

export class Revocation {
  private readonly revoked: Record<RouterDomain, Set<PeerKey>> = { clients: new Set(), workers: new Set(), admin: new Set() };
  /** Messages dropped because their peer's key was revoked. */
  dropped = 0;

  constructor(
    private readonly security: BrokerSecurity,
    private readonly logger: Logger,
  ) {}

  /**
   * A connect notice (ZMQ_ROUTER_NOTIFY) on a ROUTER: the connection gets the key ZAP just allowed. False when the
   * connection had one already: the peer sent an empty message of its own, for the codec to refuse.
   */
  connected(domain: RouterDomain, peer: PeerKey): boolean {
    return this.security.connections.connected(domain, peer);
  }

  /**
   * Keeps the key table up to date from the inputs (connect and disconnect notices) and says whether an input may
   * reach the core: false for anything but the disconnect notice of a revoked peer.
   */
  admit(input: Input): boolean {
    const from = routed(input);
    if (from === undefined) return true;
    const { domain, peer, type } = from;
    if (type === "peer-gone") {
      this.security.connections.disconnected(domain, peer);
      this.revoked[domain].delete(peer);
      return true;
    }
    if (type === "peer-hello") this.connected(domain, peer);
    if (!this.revoked[domain].has(peer)) return true;
    this.dropped++;
    return false;
  }

  /** Whether messages to `peer` on `endpoint` must be dropped. */
  blocks(endpoint: Endpoint, peer: PeerKey): boolean {
    const domain = ROUTER_ENDPOINT[endpoint];
    return domain !== undefined && this.revoked[domain].has(peer);
  }

  /** Re-reads the allow-lists (all or nothing, see KeyPolicy.reload) and finds the connections to stop serving. */
  async reload(): Promise<ReloadOutcome> {
    const sizes = await this.security.reload();
    const policy = this.security.policy;
    const inputs: Input[] = [];
    const revoked = this.security.connections.revoke(
      (domain, key) => policy.allows(domain, key),
      (domain) => policy.lostKeys(domain),
    );
    for (const { domain, peer, key } of revoked) {
      this.revoked[domain].add(peer);
      this.logger.warn("key-revoked", { endpoint: domain, peer: showPeer(peer), key });
      inputs.push({ kind: "revoked", endpoint: domain, peer });
    }
    const rebindAnswers = this.security.connections.answersRevoked((key) => policy.allows("answers", key));
    return { sizes, inputs, rebindAnswers };
  }
}

/** The ROUTER an input came from, its peer, and its message type (undefined for a malformed message). */
function routed(input: Input): { domain: RouterDomain; peer: PeerKey; type: string | undefined } | undefined {
  switch (input.kind) {
    case "client":
      return { domain: "clients", peer: input.peer, type: input.msg.type };
    case "worker":
      return { domain: "workers", peer: input.peer, type: input.msg.type };
    case "admin":
      return { domain: "admin", peer: input.peer, type: input.msg.type };
    case "malformed": {
      const domain = ROUTER_ENDPOINT[input.endpoint];
      return domain === undefined || input.peer === undefined ? undefined : { domain, peer: input.peer, type: undefined };
    }
    default:
      return undefined;
  }
}

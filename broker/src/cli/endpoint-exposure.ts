/**
 * Which endpoints accept connections from other hosts. Without CURVE every byte on such an endpoint is
 * unauthenticated and unencrypted, so the broker warns at start-up.
 */

/** True for ipc/inproc and for tcp bound to a loopback address or the `lo` interface. */
export function isLoopbackEndpoint(endpoint: string): boolean {
  const match = /^([a-z0-9+]+):\/\/(.*)$/.exec(endpoint);
  if (match === null) return false;
  const [, transport, address = ""] = match;
  if (transport === "ipc" || transport === "inproc") return true;
  if (transport !== "tcp") return false;
  const colon = address.lastIndexOf(":");
  const host = (colon < 0 ? address : address.slice(0, colon)).replace(/^\[(.*)\]$/, "$1");
  return host === "localhost" || host === "lo" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export interface NamedEndpoint {
  name: string;
  endpoint: string;
}

/** The warning line (without the `ztb broker: ` prefix), or undefined when every endpoint is loopback-only. */
export function exposureWarning(endpoints: NamedEndpoint[], admin: string | null): string | undefined {
  const exposed = endpoints.filter((e) => !isLoopbackEndpoint(e.endpoint));
  const adminExposed = admin !== null && !isLoopbackEndpoint(admin);
  if (exposed.length === 0 && !adminExposed) return undefined;
  const parts: string[] = [];
  if (exposed.length > 0) {
    const list = exposed.map((e) => `${e.name} ${e.endpoint}`).join(", ");
    parts.push(`${list} accept connections from other hosts; traffic is unauthenticated and unencrypted (CURVE is not enabled)`);
  }
  if (adminExposed) {
    parts.push(`the admin endpoint ${admin} is NOT loopback-only: anyone who can reach it can inspect, cancel and retry tasks`);
  } else if (admin !== null) {
    parts.push(`the admin endpoint ${admin} is loopback-only`);
  }
  return `warning: ${parts.join("; ")}`;
}

/**
 * Which bind addresses other hosts can reach (protocol/spec.md §Security): without CURVE anyone who reaches an
 * endpoint can use it, so the broker warns when it binds a non-loopback address in the clear.
 */
import type { SecurityRole } from "./key-policy";

const LOOPBACK_HOSTS = new Set(["localhost", "lo", "::1", "[::1]", "0:0:0:0:0:0:0:1", "[0:0:0:0:0:0:0:1]"]);

/** What someone who reaches the endpoint could do, said in the warning. */
const EXPOSURE: Readonly<Record<SecurityRole, string>> = {
  clients: "submit tasks",
  workers: "take tasks and forge results",
  answers: "forge legacy answers",
  admin: "read task payloads, cancel and retry tasks",
};

/**
 * True for endpoints only this host can reach: ipc and inproc, and tcp bound to a loopback address or to the
 * loopback interface. A wildcard (`*`, `0.0.0.0`, `[::]`), any other address, interface or host name is reachable.
 */
export function isLoopbackEndpoint(endpoint: string): boolean {
  const match = /^([a-z0-9+]+):\/\/(.*)$/i.exec(endpoint);
  if (match === null) return false;
  const [, transport = "", rest = ""] = match;
  if (transport === "ipc" || transport === "inproc") return true;
  if (transport !== "tcp") return false;
  // tcp://host:port, with IPv6 hosts in brackets; a bind takes no `source;` prefix, but strip one to be safe.
  const address = rest.slice(rest.lastIndexOf(";") + 1);
  const host = address.slice(0, Math.max(0, address.lastIndexOf(":"))).toLowerCase();
  if (LOOPBACK_HOSTS.has(host)) return true;
  const ipv4 = host.replace(/^\[::ffff:(.*)\]$/, "$1");
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ipv4);
}

/** The warning to print when `endpoint` of `role` is bound without CURVE and reachable from other hosts, else undefined. */
export function insecureBindWarning(role: SecurityRole, endpoint: string, curve: boolean): string | undefined {
  if (curve || isLoopbackEndpoint(endpoint)) return undefined;
  return (
    `the ${role} endpoint ${endpoint} is reachable from other hosts without CURVE: anyone who reaches it can ` +
    `${EXPOSURE[role]} (see ztb keygen and --curve-secret)`
  );
}

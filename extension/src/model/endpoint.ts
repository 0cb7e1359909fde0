/**
 * Checks an endpoint a person typed for the extension to connect to (Attach to Running Broker…). Pure, unit-tested.
 * libzmq would accept `tcp://127.0.0.1:nope` at connect time and then never connect: the monitor would wait forever,
 * so the input box says what is wrong instead.
 */

/** Why `text` cannot be connected to, or undefined when it looks right. */
export function connectEndpointProblem(text: string): string | undefined {
  const value = text.trim();
  const example = "a ZeroMQ endpoint such as tcp://127.0.0.1:4164 or ipc:///tmp/ztb-admin";
  const scheme = /^([a-z][a-z0-9+]*):\/\/(.*)$/.exec(value);
  if (!scheme) return `"${value}" is not ${example}`;
  const [, transport, rest = ""] = scheme;
  switch (transport) {
    case "tcp": {
      const hostPort = /^(\[[0-9a-fA-F:.]+\]|[^:[\]/\s]+):([^:]*)$/.exec(rest);
      if (!hostPort) return `"${value}" needs a host and a port: tcp://HOST:PORT, e.g. tcp://127.0.0.1:4164`;
      const port = hostPort[2] ?? "";
      if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
        return `"${port}" is not a port: tcp://HOST:PORT takes a PORT from 1 to 65535`;
      }
      return undefined;
    }
    case "ipc":
      return rest === "" ? `"${value}" needs a path: ipc:///tmp/ztb-admin` : undefined;
    case "inproc":
      return "an inproc:// endpoint exists only inside the broker's own process; attach over tcp:// or ipc://";
    default:
      return `${transport}:// is not a transport the extension can attach over; use tcp:// or ipc://`;
  }
}

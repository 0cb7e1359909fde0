/** The checker's answers (PULL) and clients (ROUTER) endpoints, recording what arrives into an Inbox. */
import { Pull, Router } from "zeromq";
import type { Frame } from "../protocol/messages";
import { SendQueue } from "../peer/send-queue";
import type { Inbox } from "./inbox";

export const ANY_LOOPBACK_PORT = "tcp://127.0.0.1:*";

export interface Endpoint {
  readonly endpoint: string;
  close(): Promise<void>;
}

/** The answers endpoint: legacy workers PUSH `task-id answer*` here. */
export async function bindAnswers<M>(inbox: Inbox<M>): Promise<Endpoint> {
  const pull = new Pull({ linger: 0 });
  await pull.bind(ANY_LOOPBACK_PORT);
  void (async () => {
    try {
      for await (const frames of pull) inbox.push("", frames);
    } catch {
      // closed
    }
  })();
  return { endpoint: pull.lastEndpoint ?? ANY_LOOPBACK_PORT, close: async () => pull.close() };
}

export interface ClientsEndpoint extends Endpoint {
  /** Sends frames (starting with the routing path) to the connection `peer` (routing id in hex). */
  send(peer: string, frames: Frame[]): Promise<void>;
}

/** The clients endpoint: a ROUTER that records requests and lets the checker answer them. */
export async function bindClients<M>(inbox: Inbox<M>): Promise<ClientsEndpoint> {
  const router = new Router({ linger: 0 });
  await router.bind(ANY_LOOPBACK_PORT);
  const queue = new SendQueue(router);
  void (async () => {
    try {
      for await (const [routingId, ...frames] of router) {
        if (routingId !== undefined) inbox.push(Buffer.from(routingId).toString("hex"), frames);
      }
    } catch {
      // closed
    }
  })();
  return {
    endpoint: router.lastEndpoint ?? ANY_LOOPBACK_PORT,
    send: (peer, frames) => queue.send([Buffer.from(peer, "hex"), ...frames]),
    close: async () => {
      queue.close();
      router.close();
    },
  };
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

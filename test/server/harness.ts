/** Shared test plumbing: a broker on ephemeral tcp ports or in a temp ipc dir, and peers with bounded waits. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Dealer, Pull, Push, Request, Router } from "zeromq";
import { BrokerServer, type BrokerServerOptions, type EndpointSet } from "../../broker/src/server/broker-server";
import type { Counters } from "../../broker/src/protocol/messages";
import { Logger } from "../../broker/src/server/logger";

export type Transport = "tcp" | "ipc";
export const TRANSPORTS: Transport[] = ["tcp", "ipc"];

/** Every receive in a test gives up after this long, so a missing message fails the test instead of hanging it. */
export const RECEIVE_TIMEOUT = 3000;

export interface RunningBroker {
  server: BrokerServer;
  endpoints: EndpointSet;
  logs: string[];
  stop(): Promise<void>;
}

export async function startBroker(
  overrides: Partial<BrokerServerOptions> = {},
  transport: Transport = "tcp",
): Promise<RunningBroker> {
  const dir = transport === "ipc" ? mkdtempSync(join(tmpdir(), "ztb-server-")) : undefined;
  const at = (name: string): string => (dir === undefined ? "tcp://127.0.0.1:*" : `ipc://${join(dir, name)}`);
  const logs: string[] = [];
  const server = new BrokerServer();
  const endpoints = await server.start({
    endpoints: { clients: at("clients"), workers: at("workers"), answers: at("answers"), admin: at("admin") },
    tries: null,
    timeout: null,
    heartbeat: 1000,
    maxQueue: null,
    history: 100,
    services: [],
    maxMessage: 1 << 20,
    version: "test",
    bootNonce: "test",
    logger: new Logger("warn", "json", { write: (line: string) => logs.push(line) }),
    ...overrides,
  });
  return {
    server,
    endpoints,
    logs,
    async stop() {
      await server.close();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

type Peer = Dealer | Request | Router | Push | Pull;

/** Sockets created through `peers` are closed (linger 0) by `closeAll`. */
export class Peers {
  private readonly sockets: Peer[] = [];

  dealer(endpoint: string): Dealer {
    return this.track(new Dealer({ receiveTimeout: RECEIVE_TIMEOUT, linger: 0 }), endpoint);
  }
  request(endpoint: string): Request {
    return this.track(new Request({ receiveTimeout: RECEIVE_TIMEOUT, linger: 0 }), endpoint);
  }
  push(endpoint: string): Push {
    return this.track(new Push({ linger: 0 }), endpoint);
  }

  closeAll(): void {
    for (const socket of this.sockets) if (!socket.closed) socket.close();
    this.sockets.length = 0;
  }

  private track<T extends Peer>(socket: T, endpoint: string): T {
    socket.connect(endpoint);
    this.sockets.push(socket);
    return socket;
  }
}

export function texts(frames: Buffer[]): string[] {
  return frames.map((frame) => frame.toString("utf8"));
}

export function json(frame: Buffer | undefined): Record<string, unknown> {
  if (frame === undefined) throw new Error("missing JSON frame");
  return JSON.parse(frame.toString("utf8")) as Record<string, unknown>;
}

/** Receives on a modern-protocol DEALER until a message whose command (frame 2) is `command`, skipping HEARTBEATs. */
export async function receiveCommand(socket: Dealer, command: string): Promise<Buffer[]> {
  for (;;) {
    const frames = await socket.receive();
    const got = frames[2]?.toString();
    if (got === command) return frames;
    if (got !== "HEARTBEAT") throw new Error(`expected ${command}, got ${texts(frames).join(" | ")}`);
  }
}

/** A modern worker's READY (protocol/spec.md §Worker protocol). */
export async function ready(socket: Dealer, name: string, extra: Record<string, unknown> = {}): Promise<void> {
  await socket.send(["", "ZTBW01", "READY", JSON.stringify({ name, capacity: 1, heartbeat: 1000, ...extra })]);
  // The broker answers READY with a HEARTBEAT at once: waiting for it makes "the worker is registered" observable.
  const frames = await socket.receive();
  if (frames[2]?.toString() !== "HEARTBEAT") throw new Error(`expected HEARTBEAT after READY, got ${texts(frames)}`);
}

export async function adminCall(socket: Dealer, command: string, body: unknown): Promise<Buffer[]> {
  await socket.send(["", "ZTBA01", command, JSON.stringify(body)]);
  for (;;) {
    const frames = await socket.receive();
    if (frames[2]?.toString() !== "EVENT") return frames;
  }
}

/** The broker's counters from one admin SNAPSHOT (protocol/spec.md §Admin, Counters), as the broker sent them. */
export async function snapshotCounters(admin: Dealer): Promise<Counters> {
  const reply = await adminCall(admin, "SNAPSHOT", {});
  assert.equal(reply[2]?.toString(), "SNAPSHOT");
  return json(reply[3]).counters as Counters;
}

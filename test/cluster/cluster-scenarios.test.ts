/**
 * The protocol's scenario transcripts (protocol/examples/scenarios) through a cluster, over real sockets: every
 * worker of a scenario connects to broker A, every client and monitor to broker B, and the two share one JetStream
 * queue on a real nats-server. Time is real: a step is sent at its `at` (counted from the last expectation met, so a
 * slower machine shifts the whole script, not the gaps within it), and expected messages are waited for, in order per
 * peer. At the end no message may be left that the transcript did not expect (broker HEARTBEATs aside).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { Dealer, Push } from "zeromq";
import { type BrokerProcess, spawnBroker } from "../chaos/broker-process";
import { freshClusterName } from "./fixtures";
import { NatsCluster } from "./nats-harness";
import { includes, parseJson, sameBytes, show, type JsonValue, type Matcher, type Scenario } from "../protocol/scenario-format";

const DIR = path.resolve(__dirname, "../../../protocol/examples/scenarios");

/**
 * The transcripts that apply to a cluster. Left out, and why:
 * - dispatch-idle-only: its three requests race through the shared queue; the transcript fixes which of two idle
 *   workers gets which request, an order one broker decides alone but a cluster decides with JetStream's deliveries.
 * - duplicate-answer-discarded: drives a monitor's RETRY/INSPECT by task ids of one broker's history.
 * - heartbeat-expiry: asserts the broker's HEARTBEATs to the millisecond.
 * - cancel: in a cluster the broker holding the client answers a CANCEL at once (spec §Cluster mode), before the
 *   broker running the task has stopped it, so the reply says 0 attempts and no worker where one broker says 1 and
 *   the worker; the worker's CANCEL is checked in cluster-mode.test.ts.
 * - request-deadline: its first half (nobody serves the service: `expired` at the deadline) holds in a cluster; in its
 *   second half the broker holding the client answers at once when the deadline passes, as for a CANCEL (above), and
 *   the broker running the attempt stops it by the cluster's cancel (CANCEL `cancelled`, not `timeout`).
 */
const APPLY = [
  "attempts-exhausted",
  "enveloped-client",
  "extend",
  "fail-non-retryable",
  "fail-retryable",
  "late-answer-accepted",
  "legacy-worker",
  "timeout-retry-elsewhere",
  "worker-lost-redispatch",
];

const utf8 = new TextEncoder();
const HEARTBEAT = utf8.encode("HEARTBEAT");

function withoutElapsed(wanted: { [key: string]: JsonValue }): { [key: string]: JsonValue } {
  const { elapsed: _elapsed, ...rest } = wanted;
  return rest;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** One scripted peer: a DEALER that keeps every message it receives (HEARTBEATs aside), or the answers PUSH. */
class Peer {
  readonly inbox: Uint8Array[][] = [];
  constructor(readonly socket: Dealer | Push) {
    if (socket instanceof Push) return;
    void (async () => {
      try {
        for await (const frames of socket) {
          if (!sameBytes(frames[2] ?? new Uint8Array(), HEARTBEAT)) this.inbox.push(frames);
        }
      } catch {
        // closed
      }
    })();
  }
}

class ClusterReplay {
  private readonly peers = new Map<string, Peer>();
  private readonly captures = new Map<string, Uint8Array>();
  private base = Date.now();

  constructor(
    readonly name: string,
    readonly scenario: Scenario,
    readonly workersBroker: BrokerProcess,
    readonly clientsBroker: BrokerProcess,
  ) {}

  private peer(name: string): Peer {
    let peer = this.peers.get(name);
    if (peer === undefined) {
      const role = name.split(":")[0];
      const socket = role === "answers" ? new Push({ linger: 0 }) : new Dealer({ linger: 0 });
      const { endpoints } = role === "client" ? this.clientsBroker : this.workersBroker;
      socket.connect(role === "answers" ? endpoints.answers : role === "worker" ? endpoints.workers : endpoints.clients);
      peer = new Peer(socket);
      this.peers.set(name, peer);
    }
    return peer;
  }

  private bytes(m: Matcher): Uint8Array {
    if ("text" in m) return utf8.encode(m.text);
    if ("hex" in m) return Uint8Array.from(Buffer.from(m.hex, "hex"));
    if ("json" in m) return utf8.encode(JSON.stringify(m.json));
    if ("ref" in m) {
      const frame = this.captures.get(m.ref);
      assert.ok(frame !== undefined, `${this.name}: ref ${m.ref} before its capture`);
      return frame;
    }
    throw new Error(`${JSON.stringify(m)} cannot be sent`);
  }

  private matches(frames: Uint8Array[], want: Matcher[]): boolean {
    if (frames.length !== want.length) return false;
    const captured = new Map<string, Uint8Array>();
    const ok = want.every((m, k) => {
      const frame = frames[k] as Uint8Array;
      if ("capture" in m) {
        const before = this.captures.get(m.capture);
        captured.set(m.capture, frame);
        return before === undefined || sameBytes(before, frame);
      }
      if ("json" in m) return includes(parseJson(frame), m.json);
      // `elapsed` is the fake clock's to the millisecond; here it is real time, however the machine ran.
      if ("jsonMatch" in m) return includes(parseJson(frame), withoutElapsed(m.jsonMatch));
      return sameBytes(frame, this.bytes(m));
    });
    if (ok) for (const [k, v] of captured) this.captures.set(k, v);
    return ok;
  }

  /** Waits until every expected message has arrived (each the first unmatched one of its peer). */
  private async expect(where: string, expected: { peer: string; frames: Matcher[] }[]): Promise<void> {
    const end = Date.now() + 8000;
    const left = [...expected];
    while (left.length > 0) {
      for (let i = 0; i < left.length; i++) {
        const want = left[i] as { peer: string; frames: Matcher[] };
        const inbox = this.peer(want.peer).inbox;
        if (inbox.length > 0 && this.matches(inbox[0] as Uint8Array[], want.frames)) {
          inbox.shift();
          left.splice(i, 1);
          i--;
        }
      }
      if (left.length === 0) break;
      if (Date.now() > end) {
        const got = [...this.peers].map(([name, p]) => `${name}: ${p.inbox.map((f) => `[${f.map(show).join(", ")}]`).join(" ")}`).join("\n    ");
        assert.fail(`${this.name} ${where}: still expected ${JSON.stringify(left)}\n  received:\n    ${got}`);
      }
      await sleep(5);
    }
  }

  async run(): Promise<void> {
    let last = 0;
    for (const [i, step] of this.scenario.steps.entries()) {
      const where = `step ${i} (at ${step.at})`;
      await sleep(this.base + step.at - Date.now());
      if ("send" in step) {
        await this.peer(step.peer).socket.send(step.send.map((m) => this.bytes(m)));
      } else if ("disconnect" in step) {
        this.peer(step.peer).socket.close();
        this.peers.delete(step.peer);
      } else if (step.expect.length > 0) {
        await this.expect(where, step.expect);
        // The script's later gaps count from when this expectation was met.
        const late = Date.now() - (this.base + step.at);
        if (late > 0) this.base += late;
      }
      last = step.at;
    }
    await sleep(500);
    for (const [name, peer] of this.peers) {
      assert.deepEqual(peer.inbox.map((f) => f.map(show)), [], `${this.name}: ${name} got messages after step at ${last} that the transcript does not expect`);
    }
  }

  close(): void {
    for (const peer of this.peers.values()) peer.socket.close();
  }
}

function brokerArgs(b: Scenario["broker"]): string[] {
  const args = ["--heartbeat", String(b.heartbeat)];
  if (b.tries !== null) args.push("-t", String(b.tries));
  if (b.timeout !== null) args.push("-T", String(b.timeout / 1000));
  if (b.maxQueue !== null) args.push("--max-queue", String(b.maxQueue));
  if (b.deadline !== undefined) args.push("--deadline", `${b.deadline}ms`);
  for (const service of b.services ?? []) args.push("--service", service);
  return args;
}

describe("cluster mode: the protocol's scenario transcripts, workers on one broker and clients on another", function () {
  this.timeout(60_000);
  let nats: NatsCluster;
  before(async () => {
    nats = await NatsCluster.start({ nodes: 1 });
  });
  after(async () => {
    await nats?.stop();
  });

  for (const name of APPLY) {
    it(name, async () => {
      const scenario = JSON.parse(fs.readFileSync(path.join(DIR, `${name}.json`), "utf8")) as Scenario;
      const cluster = freshClusterName("scn");
      const start = (id: string) =>
        spawnBroker(["--cluster", nats.urls.join(","), "--cluster-name", cluster, "--broker-id", id, "--lease", "5s", "--log-level", "error", ...brokerArgs(scenario.broker)]);
      const [a, b] = await Promise.all([start("A"), start("B")]);
      const replay = new ClusterReplay(name, scenario, a, b);
      try {
        await replay.run();
      } finally {
        replay.close();
        await Promise.all([a.stop(), b.stop()]);
      }
    });
  }
});

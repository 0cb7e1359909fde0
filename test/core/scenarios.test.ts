/**
 * Replays every protocol/examples/scenarios/*.json against BrokerCore with a fake clock. The codec turns the
 * scripted frames into inputs and the core's outputs back into frames, so a scenario checks wire bytes end to end.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import {
  PEER_GONE_FRAME,
  ProtocolError,
  decodeAdmin,
  decodeAnswer,
  decodeClient,
  decodeWorker,
  encodeAdminReply,
  encodeClientReply,
  encodeToWorker,
} from "../../broker/src/codec";
import type { Endpoint, Input, Output } from "../../broker/src/core/api";
import { BrokerCore } from "../../broker/src/core/broker-core";
import type { Frame } from "../../broker/src/protocol/messages";
import { config } from "./harness";
import { includes, parseJson, sameBytes, show, type Matcher, type Scenario } from "../protocol/scenario-format";

const ROOT = path.resolve(__dirname, "../../..");
const DIR = path.join(ROOT, "protocol/examples/scenarios");
const SCHEMA = path.join(ROOT, "protocol/schemas/scenario.schema.json");

/** The scenario files the brief names (protocol/examples). */
const NAMES = [
  "dispatch-idle-only",
  "timeout-retry-elsewhere",
  "attempts-exhausted",
  "late-answer-accepted",
  "duplicate-answer-discarded",
  "worker-lost-redispatch",
  "fail-retryable",
  "fail-non-retryable",
  "cancel",
  "legacy-worker",
  "enveloped-client",
  "heartbeat-expiry",
  "extend",
  "request-deadline",
];

interface Emitted {
  peer: string;
  frames: Frame[];
  heartbeat: boolean;
}

const utf8 = new TextEncoder();
class Replay {
  readonly core: BrokerCore;
  readonly captures = new Map<string, Frame>();
  now = 0;
  pending: Emitted[] = [];

  constructor(readonly scenario: Scenario) {
    const b = scenario.broker;
    this.core = new BrokerCore(
      config({ tries: b.tries, timeout: b.timeout, heartbeat: b.heartbeat, maxQueue: b.maxQueue, services: b.services ?? [], deadline: b.deadline ?? null, bootNonce: "scn" }),
      0,
    );
  }

  bytes(m: Matcher): Frame {
    if ("text" in m) return utf8.encode(m.text);
    if ("hex" in m) return Uint8Array.from(Buffer.from(m.hex, "hex"));
    if ("json" in m) return utf8.encode(JSON.stringify(m.json));
    if ("ref" in m) {
      const frame = this.captures.get(m.ref);
      if (frame === undefined) throw new Error(`ref "${m.ref}" before its capture`);
      return frame;
    }
    throw new Error(`${JSON.stringify(m)} cannot be sent`);
  }

  collect(outputs: Output[]): void {
    for (const o of outputs) {
      if (o.kind === "to-client") this.pending.push({ peer: `client:${o.peer}`, frames: encodeClientReply(o.msg), heartbeat: false });
      else if (o.kind === "to-worker") {
        this.pending.push({ peer: `worker:${o.peer}`, frames: encodeToWorker(o.msg), heartbeat: o.msg.type === "heartbeat" });
      } else if (o.kind === "to-admin") this.pending.push({ peer: `admin:${o.peer}`, frames: encodeAdminReply(o.msg), heartbeat: false });
      else if (o.kind === "stopped") this.pending.push({ peer: "broker", frames: [], heartbeat: false });
    }
  }

  input(peer: string, frames: Frame[]): Input {
    const [role, key = ""] = peer.split(":");
    const endpoint: Endpoint = role === "client" ? "clients" : role === "worker" ? "workers" : role === "admin" ? "admin" : "answers";
    try {
      switch (endpoint) {
        case "clients":
          return { kind: "client", peer: key, msg: decodeClient(frames) };
        case "workers":
          return { kind: "worker", peer: key, msg: decodeWorker(frames) };
        case "admin":
          return { kind: "admin", peer: key, msg: decodeAdmin(frames) };
        case "answers":
          return { kind: "answer", msg: decodeAnswer(frames) };
      }
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      const input: Input = { kind: "malformed", endpoint, code: e.code, detail: e.message, enveloped: e.enveloped };
      if (endpoint !== "answers") input.peer = key;
      if (e.path !== undefined) input.replyPath = e.path;
      return input;
    }
  }

  advance(to: number): void {
    assert.ok(to >= this.now, `step at ${to} goes back in time from ${this.now}`);
    for (let at = this.core.nextDeadline(); at !== undefined && at <= to; at = this.core.nextDeadline()) {
      this.now = Math.max(this.now, at);
      this.collect(this.core.tick(this.now));
    }
    this.now = to;
  }

  /** The emitted messages the scenario speaks about. */
  take(): Emitted[] {
    const list = this.pending.filter((m) => this.scenario.heartbeats === true || !m.heartbeat);
    this.pending = [];
    return list;
  }

  match(where: string, actual: Emitted[], expected: { peer: string; frames: Matcher[] }[]): void {
    const render = (list: Emitted[]) => list.map((m) => `${m.peer}: [${m.frames.map(show).join(", ")}]`).join("\n    ");
    const fail = (why: string) => assert.fail(`${where}: ${why}\n  emitted:\n    ${render(actual)}`);
    if (actual.length !== expected.length) fail(`expected ${expected.length} messages, got ${actual.length}`);
    expected.forEach((want, i) => {
      const got = actual[i] as Emitted;
      if (got.peer !== want.peer) fail(`message ${i} went to ${got.peer}, expected ${want.peer}`);
      if (got.frames.length !== want.frames.length) fail(`message ${i} has ${got.frames.length} frames, expected ${want.frames.length}`);
      want.frames.forEach((m, k) => {
        const frame = got.frames[k] as Frame;
        const bad = (what: string) => fail(`message ${i} frame ${k} ${show(frame)} does not match ${what}`);
        if ("capture" in m) {
          const before = this.captures.get(m.capture);
          if (before !== undefined && !sameBytes(before, frame)) bad(`capture ${m.capture} = ${show(before)}`);
          this.captures.set(m.capture, frame);
        } else if ("json" in m) {
          if (!includes(parseJson(frame), m.json) || !includes(m.json, parseJson(frame) ?? null)) bad(JSON.stringify(m));
        } else if ("jsonMatch" in m) {
          if (!includes(parseJson(frame), m.jsonMatch)) bad(JSON.stringify(m));
        } else if (!sameBytes(frame, this.bytes(m))) bad(JSON.stringify(m));
      });
    });
  }

  run(): void {
    this.scenario.steps.forEach((step, i) => {
      this.advance(step.at);
      const where = `step ${i} (at ${step.at})`;
      if ("send" in step) this.collect(this.core.handle(this.input(step.peer, step.send.map((m) => this.bytes(m))), this.now));
      else if ("disconnect" in step) this.collect(this.core.handle(this.input(step.peer, [PEER_GONE_FRAME]), this.now));
      else this.match(where, this.take(), step.expect);
    });
    this.match("after the last step", this.take(), []);
  }
}

function load(name: string): Scenario {
  return JSON.parse(fs.readFileSync(path.join(DIR, `${name}.json`), "utf8")) as Scenario;
}

describe("core scenarios (protocol/examples/scenarios)", () => {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  const validate = ajv.compile(JSON.parse(fs.readFileSync(SCHEMA, "utf8")) as object);

  it("has exactly the scenario files the brief names", () => {
    const files = fs.readdirSync(DIR).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5));
    assert.deepEqual(files.sort(), [...NAMES].sort());
  });

  for (const name of NAMES) {
    it(`${name}: valid against scenario.schema.json and replays against the core`, () => {
      const scenario = load(name);
      assert.ok(validate(scenario), ajv.errorsText(validate.errors));
      new Replay(scenario).run();
    });
  }

  it("notices a wrong expectation (the replay can fail)", () => {
    const scenario = load("dispatch-idle-only");
    const step = scenario.steps.find((s) => "expect" in s && s.expect.length > 0);
    assert.ok(step !== undefined && "expect" in step);
    const first = step.expect[0];
    assert.ok(first !== undefined);
    first.peer = "worker:B";
    assert.throws(() => new Replay(scenario).run(), /went to worker:A, expected worker:B/);
  });

  it("notices messages the scenario does not expect", () => {
    const scenario = load("dispatch-idle-only");
    scenario.steps = scenario.steps.filter((s) => !("expect" in s)).slice(0, 3); // READY, READY, a request
    assert.throws(() => new Replay(scenario).run(), /after the last step/);
  });
});

/**
 * The checker's inputs come from the scenario transcripts (protocol/examples/scenarios, format
 * protocol/schemas/scenario.schema.json), so protocol/ stays the one source of truth: the broker's `expect` messages
 * are what the checker, standing in for the broker, plays to the peer under test. A `capture`/`ref` frame is the
 * task id slot, filled with an id the checker chooses. Every message is then decoded by the codec, so a scenario
 * that drifted from the protocol fails loudly here rather than testing the peer with garbage.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeClientReply, decodeToWorker, isPlainFailure, ProtocolError } from "../codec";
import type { BrokerToWorker, Frame, ReplyDetail, TaskHeader } from "../protocol/messages";

type Matcher = { text: string } | { hex: string } | { json: unknown } | { jsonMatch: unknown } | { ref: string } | { capture: string };

interface ScenarioFile {
  steps: { expect?: { peer: string; frames: Matcher[] }[] }[];
}

interface BrokerMessage {
  scenario: string;
  peer: string;
  frames: Matcher[];
}

export interface TaskInput {
  header: TaskHeader;
  payload: Frame[];
  scenario: string;
}

export interface ReplyInput {
  detail: ReplyDetail;
  payload: Frame[];
  scenario: string;
}

/** protocol/examples/scenarios, from the compiled tree (out/broker/src/conformance) or from the sources. */
export function scenariosDir(): string {
  for (const up of ["../../../../protocol", "../../../protocol"]) {
    const dir = join(__dirname, up, "examples", "scenarios");
    if (existsSync(dir)) return dir;
  }
  throw new Error("protocol/examples/scenarios not found next to the ztb installation");
}

let cache: BrokerMessage[] | undefined;

function brokerMessages(): BrokerMessage[] {
  if (cache !== undefined) return cache;
  const dir = scenariosDir();
  const messages: BrokerMessage[] = [];
  for (const name of readdirSync(dir).filter((file) => file.endsWith(".json")).sort()) {
    const scenario = JSON.parse(readFileSync(join(dir, name), "utf8")) as ScenarioFile;
    for (const step of scenario.steps) {
      for (const message of step.expect ?? []) messages.push({ scenario: name.replace(/\.json$/, ""), ...message });
    }
  }
  cache = messages;
  return messages;
}

/** The frames of a scenario message, its task id slot filled with `id`. */
function framesOf(matchers: readonly Matcher[], id: Frame): Frame[] {
  return matchers.map((matcher) => {
    if ("text" in matcher) return Buffer.from(matcher.text, "utf8");
    if ("hex" in matcher) return Buffer.from(matcher.hex, "hex");
    if ("json" in matcher) return Buffer.from(JSON.stringify(matcher.json), "utf8");
    if ("jsonMatch" in matcher) return Buffer.from(JSON.stringify(matcher.jsonMatch), "utf8");
    return id;
  });
}

const PLACEHOLDER_ID = Buffer.from("scenario-id");

function toWorker(): { scenario: string; msg: BrokerToWorker }[] {
  return brokerMessages()
    .filter((message) => message.peer.startsWith("worker:"))
    .map((message) => ({ scenario: message.scenario, msg: decodeToWorker(framesOf(message.frames, PLACEHOLDER_ID)) }));
}

/** Every distinct TASK the scenarios send to a modern worker (headers and payloads), in file order. */
export function taskInputs(): TaskInput[] {
  const seen = new Set<string>();
  const inputs: TaskInput[] = [];
  for (const { scenario, msg } of toWorker()) {
    if (msg.type !== "task") continue;
    const key = JSON.stringify([msg.header, msg.payload.map((frame) => Buffer.from(frame).toString("hex"))]);
    if (seen.has(key)) continue;
    seen.add(key);
    inputs.push({ header: msg.header, payload: msg.payload, scenario });
  }
  return nonEmpty(inputs, "TASK");
}

/** The payloads of the LEGACY-TASKs the scenarios send to prototype workers. */
export function legacyTaskInputs(): { payload: Frame[]; scenario: string }[] {
  const inputs: { payload: Frame[]; scenario: string }[] = [];
  for (const { scenario, msg } of toWorker()) if (msg.type === "legacy-task") inputs.push({ payload: msg.payload, scenario });
  return nonEmpty(inputs, "LEGACY-TASK");
}

/** The first broker-to-worker message of `type` (e.g. CANCEL cancelled, DISCONNECT unknown-worker) in the scenarios. */
export function workerMessage<T extends BrokerToWorker["type"]>(
  type: T,
  accept: (msg: Extract<BrokerToWorker, { type: T }>) => boolean,
): Extract<BrokerToWorker, { type: T }> {
  for (const { msg } of toWorker()) {
    if (msg.type === type && accept(msg as Extract<BrokerToWorker, { type: T }>)) return msg as Extract<BrokerToWorker, { type: T }>;
  }
  throw new Error(`no ${type} message to a worker in protocol/examples/scenarios`);
}

/**
 * The first enveloped REPLY the scenarios send to a client whose detail matches `accept`. Scenario details are
 * partial (`jsonMatch`); the members a complete REPLY always has (attempts, elapsed) are filled in when missing.
 */
export function replyInput(accept: (detail: ReplyDetail, payload: Frame[]) => boolean): ReplyInput {
  for (const message of brokerMessages()) {
    if (!message.peer.startsWith("client:")) continue;
    const reply = decodeOrSkip(framesOf(message.frames.map(completeDetail), PLACEHOLDER_ID));
    if (reply?.type === "reply" && accept(reply.detail, reply.payload)) {
      return { detail: reply.detail, payload: reply.payload, scenario: message.scenario };
    }
  }
  throw new Error("no matching REPLY in protocol/examples/scenarios");
}

/**
 * A scenario's partial REPLY detail (`jsonMatch`) made complete: the members every REPLY has (status, attempts,
 * elapsed) are filled in when missing. Other matchers are unchanged.
 */
function completeDetail(matcher: Matcher): Matcher {
  if (!("jsonMatch" in matcher) || typeof matcher.jsonMatch !== "object" || matcher.jsonMatch === null) return matcher;
  const partial = matcher.jsonMatch as Partial<ReplyDetail>;
  return { json: { ...partial, status: partial.status ?? "succeeded", attempts: partial.attempts ?? 1, elapsed: partial.elapsed ?? 0 } };
}

/** The codec's reading of a scenario's client message, or undefined when the codec refuses it. */
function decodeOrSkip(frames: Frame[]): ReturnType<typeof decodeClientReply> | undefined {
  try {
    return decodeClientReply(frames);
  } catch (error) {
    if (error instanceof ProtocolError) return undefined;
    throw error;
  }
}

function nonEmpty<T>(inputs: T[], what: string): T[] {
  if (inputs.length === 0) throw new Error(`no ${what} message in protocol/examples/scenarios`);
  return inputs;
}

/** The answer frames of the first plain reply the scenarios send to a client: a success, or the failure `"" ""`. */
export function plainReplyInput(failure: boolean): { payload: Frame[]; scenario: string } {
  for (const message of brokerMessages()) {
    if (!message.peer.startsWith("client:")) continue;
    // Enveloped REPLYs in scenarios carry partial details (jsonMatch), which the codec rightly refuses.
    const reply = decodeOrSkip(framesOf(message.frames, PLACEHOLDER_ID));
    if (reply?.type !== "plain-reply") continue;
    if (isPlainFailure(reply.payload) === failure) return { payload: reply.payload, scenario: message.scenario };
  }
  throw new Error("no matching plain reply in protocol/examples/scenarios");
}

interface VectorFile {
  endpoint: string;
  direction: string;
  command: string;
  frames: Matcher[];
  error?: string;
}

export interface InvalidInput {
  name: string;
  command: string;
  /** The vector's frames, its example task id (`k3f9q2-…`) replaced by `id`. */
  frames(id: Frame): Frame[];
}

/** The spec's invalid vectors of messages a broker could send a modern worker (protocol/examples/invalid). */
export function invalidToWorker(): InvalidInput[] {
  const dir = join(scenariosDir(), "..", "invalid");
  const inputs: InvalidInput[] = [];
  for (const name of readdirSync(dir).filter((file) => file.endsWith(".json")).sort()) {
    const vector = JSON.parse(readFileSync(join(dir, name), "utf8")) as VectorFile;
    if (vector.endpoint !== "workers" || vector.direction !== "from-broker") continue;
    const matchers = vector.frames.map((m): Matcher => ("text" in m && m.text.startsWith("k3f9q2-") ? { ref: "id" } : m));
    inputs.push({ name: name.replace(/\.json$/, ""), command: vector.command, frames: (id) => framesOf(matchers, id) });
  }
  return nonEmpty(inputs, "invalid from-broker vector");
}

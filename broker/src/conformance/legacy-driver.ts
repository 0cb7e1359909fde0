/**
 * `ztb conformance worker --legacy`: the prototype's REQ + PUSH worker (protocol/spec.md §Legacy workers). It asks
 * for work with one frame, gets `"" task-id payload*`, and answers `task-id answer*` on the answers endpoint. It has
 * no READY, heartbeats, FAIL, CANCEL or DISCONNECT: those checks are reported not applicable.
 */
import { randomBytes } from "node:crypto";
import { decodeAnswer, decodeClient, decodeWorker } from "../codec";
import type { ClientMessage, Frame, LegacyAnswer, WorkerMessage } from "../protocol/messages";
import { MODERN_ONLY, Results, WORKER_CHECKS } from "./checks";
import { framesHex, showId } from "./hex";
import { Inbox, type Seen } from "./inbox";
import { PeerProcess } from "./peer-process";
import type { Report } from "./report";
import { legacyTaskInputs } from "./scenario-inputs";
import { ANY_LOOPBACK_PORT, bindAnswers, bindClients, delay } from "./sockets";
import { START_MS, type WorkerCheckOptions } from "./worker-driver";
import { WorkersRouter } from "./workers-router";

const ANSWER_MS = 3000;

export async function checkLegacyWorker(options: WorkerCheckOptions): Promise<Report> {
  const started = performance.now();
  const clock = (): number => Math.round(performance.now() - started);
  const results = new Results(WORKER_CHECKS);
  for (const id of MODERN_ONLY) results.notApplicable(id, "a legacy worker has no READY, heartbeats, FAIL, CANCEL or DISCONNECT");
  const inbox = new Inbox<WorkerMessage>(decodeWorker, clock);
  const answersInbox = new Inbox<LegacyAnswer>(decodeAnswer, clock);
  const router = await WorkersRouter.bind(ANY_LOOPBACK_PORT, inbox, "plain", options.heartbeat, clock);
  const answers = await bindAnswers(answersInbox);
  const clients = await bindClients(new Inbox<ClientMessage>(decodeClient, clock));
  const endpoints = { clients: clients.endpoint, workers: router.endpoint, answers: answers.endpoint };
  const proc = new PeerProcess(options.command, endpoints);
  const inputs = legacyTaskInputs();
  const nonce = randomBytes(4).readUInt32BE().toString(36);

  /** Sends a LEGACY-TASK in answer to `request` and waits for the answer naming `id` on the answers endpoint. */
  const serve = async (request: Seen<WorkerMessage>, id: Frame, input: number): Promise<Seen<LegacyAnswer> | undefined> => {
    if (request.msg?.type !== "legacy-ready") return undefined;
    const mark = answersInbox.mark;
    const payload = inputs[input % inputs.length]?.payload ?? [];
    router.send(request.peer, { type: "legacy-task", path: request.msg.path, task: id, payload });
    return answersInbox.next(() => true, ANSWER_MS, mark);
  };

  try {
    const first = await Promise.race([inbox.next(() => true, START_MS), proc.ended.then(() => delay(100)).then(() => inbox.log[0])]);
    if (first === undefined) {
      results.fail("legacy.ready", proc.running ? `no message within ${START_MS / 1000} s` : `the command ${proc.describeExit()} without sending anything`);
    } else if (first.msg?.type !== "legacy-ready") {
      const what = first.msg?.type === "ready" ? "a modern READY (run without --legacy)" : (first.error?.message ?? first.msg?.type ?? "?");
      results.fail("legacy.ready", `not a legacy request for work: ${what}`, [framesHex(first.frames)]);
    } else {
      results.pass("legacy.ready", `${JSON.stringify(Buffer.from(first.msg.frame).toString("latin1"))}`);
      const id = Buffer.from(`${nonce}-1`);
      const answer = await serve(first, id, 0);
      if (answer === undefined) results.fail("legacy.answer-id", `no answer on the answers endpoint within ${ANSWER_MS} ms of task ${showId(id)}`);
      else if (answer.msg === undefined) results.fail("legacy.answer-id", answer.error?.message ?? "?", [framesHex(answer.frames)]);
      else if (!Buffer.from(answer.msg.task).equals(id)) {
        results.fail("legacy.answer-id", `the answer names task ${showId(answer.msg.task)} but LEGACY-TASK was ${showId(id)}`, [framesHex(answer.frames)]);
      } else results.pass("legacy.answer-id", `task ${showId(id)} answered with ${answer.msg.payload.length} frame(s)`);

      const again = await inbox.next((seen) => seen !== first, ANSWER_MS, inbox.log.indexOf(first) + 1);
      if (again?.msg?.type !== "legacy-ready") {
        results.fail("legacy.asks-again", again === undefined ? `no new request for work within ${ANSWER_MS} ms` : `not a request for work`, again === undefined ? undefined : [framesHex(again.frames)]);
        results.skip("legacy.opaque-id", "the worker did not ask for more work");
      } else {
        results.pass("legacy.asks-again");
        const binary = randomBytes(16);
        binary[0] = 0x00;
        binary[7] = 0xff;
        const echoed = await serve(again, binary, 1);
        if (echoed?.msg === undefined) results.fail("legacy.opaque-id", `no valid answer naming task ${showId(binary)} within ${ANSWER_MS} ms`);
        else if (!Buffer.from(echoed.msg.task).equals(binary)) {
          results.fail("legacy.opaque-id", `the answer names task ${showId(echoed.msg.task)} but LEGACY-TASK was ${showId(binary)}`, [framesHex(echoed.frames)]);
        } else results.pass("legacy.opaque-id", `${showId(binary)} echoed`);
      }
    }
  } finally {
    await proc.stop();
    await router.close();
    await answers.close();
    await clients.close();
  }

  const bad = [...inbox.errors(), ...answersInbox.errors()];
  const total = inbox.log.length + answersInbox.log.length;
  if (bad.length === 0) results.pass("schema.messages", `${total} messages, all decoded`);
  else results.fail("schema.messages", `${bad.length} of ${total} messages are not valid: ${bad[0]?.error?.message ?? "?"}`, bad.slice(0, 3).map((seen) => framesHex(seen.frames)));

  const exit = proc.exit;
  return {
    role: "worker",
    mode: "legacy",
    command: options.command,
    endpoints,
    checks: results.list(),
    process: { exitCode: exit?.exitCode ?? null, signal: exit?.signal ?? null, stderrTail: proc.lines() },
  };
}

/**
 * `ztb conformance client`: runs the client command twice against the checker's clients endpoint (a ROUTER standing
 * in for the broker). The first run gets a success reply, the second a failure reply, both taken from the scenarios.
 * The command's contract: send one request (plain or enveloped), wait for its reply, exit with status 0 for a success
 * reply and non-zero for a failure reply, without sending the request again.
 */
import { randomBytes } from "node:crypto";
import { decodeAnswer, decodeClient, decodeWorker, encodeClientReply } from "../codec";
import type { ClientMessage, LegacyAnswer, ReplyDetail, WorkerMessage } from "../protocol/messages";
import { CLIENT_CHECKS, Results, type ClientCheckId } from "./checks";
import { framesHex } from "./hex";
import { Inbox, type Seen } from "./inbox";
import { PeerProcess, type Ended } from "./peer-process";
import type { Report } from "./report";
import { plainReplyInput, replyInput } from "./scenario-inputs";
import { ANY_LOOPBACK_PORT, bindAnswers, bindClients, delay } from "./sockets";
import { START_MS } from "./worker-driver";
import { WorkersRouter } from "./workers-router";

export interface ClientCheckOptions {
  command: string[];
}

/** How long the client may take to exit after its reply. */
const EXIT_MS = 5000;

type Outcome = "success" | "failure";
const CHECK: Record<Outcome, ClientCheckId> = { success: "client.success-reply", failure: "client.failure-reply" };

export async function checkClient(options: ClientCheckOptions): Promise<Report> {
  const started = performance.now();
  const clock = (): number => Math.round(performance.now() - started);
  const results = new Results(CLIENT_CHECKS);
  const inbox = new Inbox<ClientMessage>(decodeClient, clock);
  const clients = await bindClients(inbox);
  const workers = await WorkersRouter.bind(ANY_LOOPBACK_PORT, new Inbox<WorkerMessage>(decodeWorker, clock), "plain", 1000, clock);
  const answers = await bindAnswers(new Inbox<LegacyAnswer>(decodeAnswer, clock));
  const endpoints = { clients: clients.endpoint, workers: workers.endpoint, answers: answers.endpoint };
  const nonce = randomBytes(4).readUInt32BE().toString(36);
  let exit: Ended | undefined;
  let lines: string[] = [];

  try {
    for (const outcome of ["success", "failure"] as const) {
      const proc = new PeerProcess(options.command, endpoints);
      try {
        const mark = inbox.mark;
        // A command that exits without a request is judged at once, not after START_MS.
        const request = await Promise.race([inbox.next(() => true, START_MS, mark), proc.ended.then(() => delay(100)).then(() => inbox.log[mark])]);
        if (request === undefined) {
          const why = proc.running ? `no request within ${START_MS / 1000} s` : `the command ${proc.describeExit()} without sending a request`;
          results.fail("client.request", why);
          results.skip(CHECK[outcome], "no request");
          continue;
        }
        const reply = judgeRequest(request, results);
        if (reply === undefined) {
          results.skip(CHECK[outcome], "needs a valid request");
          continue;
        }
        const accepted = clock() - request.at;
        await clients.send(request.peer, encodeClientReply(reply(outcome, `${nonce}-${outcome === "success" ? 1 : 2}`, accepted)));
        const ended = await proc.exitWithin(EXIT_MS);
        const again = inbox.log.slice(mark).find((seen) => seen !== request);
        if (again !== undefined) {
          results.fail(CHECK[outcome], `sent another message after the ${outcome} reply`, [framesHex(again.frames)]);
        } else if (ended === undefined) {
          results.fail(CHECK[outcome], `still running ${EXIT_MS / 1000} s after the ${outcome} reply`);
        } else if ((ended.exitCode === 0) === (outcome === "success")) {
          results.pass(CHECK[outcome], `exit status ${String(ended.exitCode)} after the ${outcome} reply`);
        } else {
          results.fail(CHECK[outcome], `${proc.describeExit()} after the ${outcome} reply`);
        }
      } finally {
        exit = await proc.stop();
        lines = proc.lines();
      }
    }
  } finally {
    await clients.close();
    await workers.close();
    await answers.close();
  }

  const bad = inbox.errors();
  if (bad.length === 0) results.pass("schema.messages", `${inbox.log.length} messages, all decoded`);
  else results.fail("schema.messages", `${bad.length} of ${inbox.log.length} messages are not valid: ${bad[0]?.error?.message ?? "?"}`, bad.slice(0, 3).map((seen) => framesHex(seen.frames)));

  return {
    role: "client",
    mode: "client",
    command: options.command,
    endpoints,
    checks: results.list(),
    process: { exitCode: exit?.exitCode ?? null, signal: exit?.signal ?? null, stderrTail: lines },
  };
}

type ReplyMaker = (outcome: Outcome, task: string, elapsed: number) => Parameters<typeof encodeClientReply>[0];

/** Judges the request and returns how to answer it, or undefined when it cannot be answered. */
function judgeRequest(request: Seen<ClientMessage>, results: Results<ClientCheckId>): ReplyMaker | undefined {
  const msg = request.msg;
  if (msg === undefined) {
    results.fail("client.request", request.error?.message ?? "?", [framesHex(request.frames)]);
    return undefined;
  }
  if (msg.type === "plain-request") {
    results.pass("client.request", `a plain request of ${msg.payload.length} frame(s)`);
    return (outcome) => ({ type: "plain-reply", path: msg.path, payload: plainReplyInput(outcome === "failure").payload });
  }
  if (msg.type === "request") {
    results.pass("client.request", `an enveloped REQUEST ${JSON.stringify(msg.options)} with ${msg.payload.length} payload frame(s)`);
    return (outcome, task, elapsed) => {
      const input =
        outcome === "success"
          ? replyInput((detail, payload) => detail.status === "succeeded" && payload.length > 0)
          : replyInput((detail) => detail.status === "failed" && detail.reason === "worker-failed" && detail.message !== undefined);
      return { type: "reply", path: msg.path, detail: completeDetail(input.detail, msg.options.id, task, elapsed), payload: input.payload };
    };
  }
  results.fail("client.request", `the first message is a ${msg.type.toUpperCase()}, not a request`, [framesHex(request.frames)]);
  return undefined;
}

/** The scenario's detail with this request's correlation id and task, in the spec's member order. */
function completeDetail(from: ReplyDetail, id: string | undefined, task: string, elapsed: number): ReplyDetail {
  return {
    status: from.status,
    ...(from.reason === undefined ? {} : { reason: from.reason }),
    ...(from.message === undefined ? {} : { message: from.message }),
    ...(id === undefined ? {} : { id }),
    task,
    attempts: from.attempts,
    ...(from.worker === undefined ? {} : { worker: from.worker }),
    elapsed,
  };
}

/**
 * `ztb conformance client`: runs the client command three times against the checker's clients endpoint (a ROUTER
 * standing in for the broker). The first run gets a success reply, the second a failure reply, both taken from the
 * scenarios; the third gets no reply at all. The command's contract (protocol/spec.md §Command line and environment):
 * send one request (plain or enveloped), wait for its reply, exit with status 0 for a success reply and non-zero for a
 * failure reply, without sending the request again; with no reply, give up on its own, maybe after sending it again.
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
/** With no reply, a client that asked for a deadline must give up within it plus this (§Request deadlines, rule 5). */
const SILENT_MARGIN_MS = 5000;
/** With no reply and no deadline, a client must give up within this after its (last) request. */
const SILENT_MAX_MS = 60_000;
/** The silent run ends after this however often the client sends again. */
const SILENT_TOTAL_MS = 120_000;

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
    const proc = new PeerProcess(options.command, endpoints);
    try {
      await silentRun(proc, inbox, clock, results);
    } finally {
      exit = await proc.stop();
      lines = proc.lines();
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

type Request = Seen<ClientMessage> & { msg: Extract<ClientMessage, { type: "request" | "plain-request" }> };

function isRequest(seen: Seen<ClientMessage>): seen is Request {
  return seen.msg?.type === "request" || seen.msg?.type === "plain-request";
}

/** The time a client may wait for the reply to `request` before it must give up by itself. */
function patience(request: Request): number {
  const deadline = request.msg.type === "request" ? request.msg.options.deadline : undefined;
  return deadline === undefined ? SILENT_MAX_MS : deadline + SILENT_MARGIN_MS;
}

/** The third run: nothing is answered. Judges client.deadline, client.cancel and client.resend. */
async function silentRun(proc: PeerProcess, inbox: Inbox<ClientMessage>, clock: () => number, results: Results<ClientCheckId>): Promise<void> {
  const mark = inbox.mark;
  const first = await Promise.race([inbox.next(isRequest, START_MS, mark), proc.ended.then(() => delay(100)).then(() => inbox.log.slice(mark).find(isRequest))]);
  if (first === undefined || !isRequest(first)) {
    for (const id of ["client.deadline", "client.cancel", "client.resend"] as const) results.skip(id, "no request in the run without a reply");
    return;
  }
  // Wait for the exit, re-anchored at each request sent again: every try has its own deadline.
  let last: Request = first;
  let ended: Ended | undefined;
  const started = clock();
  for (;;) {
    const left = Math.min(patience(last) - (clock() - last.at), SILENT_TOTAL_MS - (clock() - started));
    if (left <= 0) break;
    const index = inbox.log.indexOf(last) + 1;
    const again = inbox.next(isRequest, left, index);
    const outcome = await Promise.race([proc.ended, again]);
    if (outcome !== undefined && "exitCode" in outcome) {
      ended = outcome;
      break;
    }
    if (outcome === undefined || !isRequest(outcome)) break;
    last = outcome;
  }
  const seen = inbox.log.slice(mark);
  const requests = seen.filter(isRequest);
  if (ended === undefined) {
    results.fail("client.deadline", `still waiting ${Math.round(patience(last) / 1000)} s after its last request, with no reply`);
  } else if (ended.exitCode === 0) {
    results.fail("client.deadline", `exit status 0 although no reply came`);
  } else {
    results.pass("client.deadline", `${proc.describeExit()} ${clock() - last.at} ms after its last request (${requests.length} sent), no reply`);
  }
  judgeCancels(seen, requests, results);
  judgeResends(requests, results);
}

function judgeCancels(seen: Seen<ClientMessage>[], requests: Request[], results: Results<ClientCheckId>): void {
  const cancels = seen.filter((s) => s.msg?.type === "cancel");
  for (const cancel of cancels) {
    const id = cancel.msg?.type === "cancel" ? cancel.msg.id : undefined;
    const named = requests.find((r) => r.peer === cancel.peer && r.msg.type === "request" && r.msg.options.id === id && r.at <= cancel.at);
    if (named === undefined || named.msg.type !== "request") {
      results.fail("client.cancel", `CANCEL ${JSON.stringify(id)} names no request this connection sent`, [framesHex(cancel.frames)]);
      return;
    }
    const key = named.msg.options.key;
    const resent = key !== undefined && requests.some((r) => r.at >= cancel.at && r.msg.type === "request" && r.msg.options.key === key);
    if (resent) {
      results.fail("client.cancel", `cancelled the keyed request ${JSON.stringify(id)} and then sent it again: the CANCEL ends the task for the resend too`, [framesHex(cancel.frames)]);
      return;
    }
  }
  if (cancels.length > 0) results.pass("client.cancel", `${cancels.length} CANCEL(s), each naming a request it had given up on`);
  else if (requests.every((r) => r.msg.type === "plain-request")) results.notApplicable("client.cancel", "plain clients cannot cancel");
  else if (requests.some((r) => r.msg.type === "request" && r.msg.options.key !== undefined)) results.pass("client.cancel", "no CANCEL for its keyed request (a resend is meant to find it)");
  else results.skip("client.cancel", "the client gave up without CANCEL (it SHOULD send one for a request it will not send again)");
}

function judgeResends(requests: Request[], results: Results<ClientCheckId>): void {
  const [first, ...again] = requests;
  if (first === undefined || again.length === 0) {
    results.skip("client.resend", "the client did not send its request again");
    return;
  }
  if (first.msg.type === "plain-request") {
    const samePeer = again.find((r) => r.peer === first.peer);
    if (samePeer !== undefined) results.fail("client.resend", "sent a plain request again on the same connection (a late reply would answer the wrong try)", [framesHex(samePeer.frames)]);
    else results.pass("client.resend", `sent again ${again.length} time(s), each on a new connection (plain mode has no key: the work may run twice)`);
    return;
  }
  const key = first.msg.options.key;
  if (key === undefined) {
    results.fail("client.resend", "sent an enveloped request again without a key: the broker may run it twice", [framesHex(first.frames)]);
    return;
  }
  const otherKey = again.find((r) => r.msg.type !== "request" || r.msg.options.key !== key);
  if (otherKey !== undefined) {
    results.fail("client.resend", `a resend does not carry the first request's key ${JSON.stringify(key)}`, [framesHex(otherKey.frames)]);
    return;
  }
  const samePeer = again.find((r) => r.peer === first.peer);
  if (samePeer !== undefined) {
    results.fail("client.resend", "sent the request again on the same connection instead of a new socket", [framesHex(samePeer.frames)]);
    return;
  }
  results.pass("client.resend", `sent again ${again.length} time(s) with key ${JSON.stringify(key)}, each on a new connection`);
}

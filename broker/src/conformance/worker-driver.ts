/**
 * `ztb conformance worker`: drives a modern worker (protocol/spec.md §Worker protocol) through the checks of
 * checks.ts, standing in for the broker with its own sockets (workers-router.ts). The phases run in order on one
 * worker process; each is bounded in time, so a whole run stays well under 20 s.
 */
import { randomBytes } from "node:crypto";
import { claimedCommand, decodeAnswer, decodeClient, decodeWorker } from "../codec";
import type { ClientMessage, Frame, LegacyAnswer, ReadyOptions, WorkerMessage } from "../protocol/messages";
import { LEGACY_ONLY, Results, WORKER_CHECKS, type WorkerCheckId } from "./checks";
import { framesHex, showId } from "./hex";
import { Inbox, type Seen } from "./inbox";
import { PeerProcess, type Endpoints } from "./peer-process";
import type { Report } from "./report";
import { invalidToWorker, taskInputs, workerMessage, type TaskInput } from "./scenario-inputs";
import { ANY_LOOPBACK_PORT, bindAnswers, bindClients, delay, type Endpoint } from "./sockets";
import { WorkersRouter } from "./workers-router";
import { inHeartbeatRange, LIVENESS } from "../protocol/limits";

export interface WorkerCheckOptions {
  /** The command under test and its arguments ({workers}, {answers}, {clients} are substituted). */
  command: string[];
  /** The interval the checker announces as the broker's, in ms (100..60000). */
  heartbeat: number;
}

/** How long a worker may take to start and send its first message (interpreters, JIT warm-up). */
export const START_MS = 10_000;
/** How long each TASK may take to be answered, at least (3 x the slowest answer seen, plus a second, when longer). */
const ANSWER_MS = 3000;
/** The first TASK of a run may be slow (a worker warming up, or slow work): it gets as long as starting did. */
const FIRST_ANSWER_MS = START_MS;
/** The attempt timeout of the EXTEND check's TASK: a worker whose work outlasts half of it should EXTEND. */
const EXTEND_TIMEOUT_MS = 400;
/** A service no worker under test announces (rule 7). */
const OTHER_SERVICE = "ztb-conformance-unannounced";
/** How long a retired worker is watched for a new READY (its back-off is at most 5 s). */
const DRAINING_WATCH_MS = 2500;
/** A leaving worker may finish held tasks for its grace period (`ztb worker`: 10 s) before it says bye. */
const LEAVE_WATCH_MS = 12_000;
/** An answer this long after its CANCEL was sent did not cross it: the worker kept working on a cancelled task. */
const CANCEL_LATE_MS = 1000;
/** Messages from a connection this soon after the checker's DISCONNECT were already on their way. */
const CROSSING_MS = 200;
/** Longest idle window watched for heartbeats. */
const HEARTBEAT_WINDOW_MAX_MS = 4000;
/** At most this many TASKs at once, whatever the capacity. */
const MAX_BURST = 8;

const tolerance = (interval: number): number => Math.max(200, Math.round(interval / 2));

type Msg<T extends WorkerMessage["type"]> = Extract<WorkerMessage, { type: T }>;

interface SentTask {
  id: Frame;
  at: number;
  /** TASKs sent with this id (a later attempt after CANCEL timeout, rule 6): each may be answered once. */
  sends?: number;
  cancelledAt?: number;
  answers: Seen<WorkerMessage>[];
}

export async function checkModernWorker(options: WorkerCheckOptions): Promise<Report> {
  const run = await ModernRun.open(options);
  try {
    await run.run();
  } finally {
    await run.close();
  }
  return run.report();
}

class ModernRun {
  private readonly results = new Results(WORKER_CHECKS);
  private readonly tasks = new Map<string, SentTask>();
  private readonly foreign: { seen: Seen<WorkerMessage>; expected: Frame | undefined }[] = [];
  private readonly fails: Seen<WorkerMessage>[] = [];
  private readonly inputs = taskInputs();
  private readonly nonce = randomBytes(4).readUInt32BE().toString(36);
  private scanned = 0;
  /** Answers naming no task sent, that arrived during the last `answered` wait. */
  private misnamed: Seen<WorkerMessage>[] = [];
  private counter = 0;
  private peer = "";
  private ready: ReadyOptions | undefined;

  private constructor(
    private readonly options: WorkerCheckOptions,
    private readonly clock: () => number,
    private readonly inbox: Inbox<WorkerMessage>,
    private readonly answersInbox: Inbox<LegacyAnswer>,
    private router: WorkersRouter,
    private readonly others: Endpoint[],
    private readonly endpoints: Endpoints,
    private readonly proc: PeerProcess,
    private second: PeerProcess | undefined = undefined,
  ) {
    for (const id of LEGACY_ONLY) this.results.notApplicable(id, "a legacy check (run with --legacy)");
  }

  static async open(options: WorkerCheckOptions): Promise<ModernRun> {
    const start = performance.now();
    const clock = (): number => Math.round(performance.now() - start);
    const inbox = new Inbox<WorkerMessage>(decodeWorker, clock);
    const answersInbox = new Inbox<LegacyAnswer>(decodeAnswer, clock);
    const router = await WorkersRouter.bind(ANY_LOOPBACK_PORT, inbox, "broker", options.heartbeat, clock);
    const answers = await bindAnswers(answersInbox);
    const clients = await bindClients(new Inbox<ClientMessage>(decodeClient, clock));
    const endpoints = { clients: clients.endpoint, workers: router.endpoint, answers: answers.endpoint };
    const proc = new PeerProcess(options.command, endpoints);
    return new ModernRun(options, clock, inbox, answersInbox, router, [answers, clients], endpoints, proc);
  }

  async run(): Promise<void> {
    if (!(await this.readyPhase())) return;
    const phases: [WorkerCheckId, () => Promise<boolean>][] = [
      ["heartbeat.interval", () => this.heartbeatPhase()],
      ["task.answer-id", () => this.taskPhase()],
      ["task.other-service", () => this.otherServicePhase()],
      ["extend.deadline", () => this.extendPhase()],
      ["cancel.honoured", () => this.cancelPhase()],
      ["cancel.unknown-reason", () => this.unknownCancelPhase()],
      ["task.repeat-id", () => this.repeatPhase()],
      ["broker.malformed", () => this.malformedPhase()],
      ["liveness.broker-silent", () => this.silencePhase()],
      ["reconnect.restart", () => this.restartPhase()],
      ["disconnect.shutdown", () => this.disconnectPhase("disconnect.shutdown", "shutdown")],
      ["disconnect.protocol-error", () => this.disconnectPhase("disconnect.protocol-error", "protocol-error")],
      ["disconnect.bye", () => this.byePhase()],
    ];
    for (const [id, phase] of phases) {
      if (!this.proc.running) {
        this.skipRest(`the command ${this.proc.describeExit()} before this check`);
        return;
      }
      if (!(await phase())) {
        this.skipRest(`the worker did not re-register after ${id}`);
        return;
      }
    }
    await this.drainingPhase();
  }

  async close(): Promise<void> {
    await this.proc.stop();
    await this.second?.stop();
    await this.router.close();
    for (const endpoint of this.others) await endpoint.close();
  }

  report(): Report {
    this.judgeAnswers();
    this.judgeSchema();
    const exit = this.proc.exit;
    return {
      role: "worker",
      mode: "modern",
      command: this.options.command,
      endpoints: this.endpoints,
      checks: this.results.list(),
      process: { exitCode: exit?.exitCode ?? null, signal: exit?.signal ?? null, stderrTail: this.proc.lines() },
    };
  }

  // -------------------------------------------------------------------------------------------------------------
  // Phases. Each returns false when the worker is no longer registered, so later phases cannot run.

  private async readyPhase(): Promise<boolean> {
    const first = await Promise.race([
      this.inbox.next(() => true, START_MS),
      this.proc.ended.then(() => delay(100)).then(() => this.inbox.log[0]),
    ]);
    if (first === undefined) {
      const why = this.proc.running ? `no message within ${START_MS / 1000} s` : `the command ${this.proc.describeExit()} without sending anything`;
      this.results.fail("ready.first", why);
      this.skipRest("no READY");
      return false;
    }
    if (first.msg?.type === "ready") {
      this.results.pass("ready.first");
      return this.registered(first as Seen<WorkerMessage> & { msg: Msg<"ready"> });
    }
    if (first.error !== undefined && claims(first.frames, "READY")) {
      this.results.pass("ready.first", "a READY, but not a valid one");
      this.results.fail("ready.schema", first.error.message, [framesHex(first.frames)]);
      // What a broker does with it (§Versioning and error handling): the worker would only repeat the same READY.
      this.router.send(first.peer, { type: "disconnect", detail: { reason: "protocol-error", message: first.error.code } });
      this.skipRest("needs a valid READY");
      return false;
    }
    const what =
      first.msg?.type === "legacy-ready"
        ? "one frame after the delimiter: a legacy request for work (run with --legacy for a prototype worker)"
        : first.error !== undefined
          ? `not READY: ${first.error.message}`
          : `${first.msg?.type ?? "?"} before READY`;
    this.results.fail("ready.first", what, [framesHex(first.frames)]);
    this.skipRest("needs a valid READY");
    return false;
  }

  private registered(seen: Seen<WorkerMessage> & { msg: Msg<"ready"> }): boolean {
    const ready = seen.msg.options;
    this.ready = ready;
    this.peer = seen.peer;
    const services = ready.services === undefined ? "" : `, services ${JSON.stringify(ready.services)}`;
    this.results.pass("ready.schema", `name ${JSON.stringify(ready.name)}${services}, capacity ${ready.capacity}, heartbeat ${ready.heartbeat} ms`);
    return true;
  }

  /** Right after READY the worker is idle: only HEARTBEATs keep the connection alive (§Heartbeating rule 1). */
  private async heartbeatPhase(): Promise<boolean> {
    const announced = this.ready?.heartbeat ?? 0;
    const readySeen = this.inbox.log.find((seen) => seen.peer === this.peer && seen.msg?.type === "ready");
    const start = readySeen?.at ?? this.clock();
    const window = Math.min(HEARTBEAT_WINDOW_MAX_MS, LIVENESS * announced + tolerance(announced));
    if (announced + tolerance(announced) >= window) {
      this.results.skip("heartbeat.interval", `an interval of ${announced} ms is too long to watch in this run (run the worker with 1000 ms or less)`);
      return true;
    }
    await delay(Math.max(0, start + window - this.clock()));
    let interval = announced;
    let last = start;
    let beats = 0;
    let longest = 0;
    let worst = { excess: -Infinity, gap: 0, from: start, interval };
    const mine = this.inbox.log.filter((seen) => seen.peer === this.peer && seen.at > start && seen.at <= start + window);
    for (const seen of [...mine, undefined]) {
      const at = seen?.at ?? start + window;
      const gap = at - last;
      const excess = gap - interval - tolerance(interval);
      longest = Math.max(longest, gap);
      if (excess > worst.excess) worst = { excess, gap, from: last, interval };
      last = at;
      if (seen?.msg?.type === "heartbeat") {
        beats++;
        // §Heartbeating rule 4: a new announced value applies from now on.
        if (inHeartbeatRange(seen.msg.interval)) interval = seen.msg.interval;
      }
    }
    if (worst.excess > 0) {
      this.results.fail(
        "heartbeat.interval",
        `idle and silent for ${worst.gap} ms (from ${worst.from - start} ms after READY), announced interval ${worst.interval} ms` +
          ` (tolerance ${tolerance(worst.interval)} ms); ${beats} HEARTBEAT(s) in ${window} ms; the READY that announced it:`,
        readySeen === undefined ? undefined : [framesHex(readySeen.frames)],
      );
    } else {
      this.results.pass("heartbeat.interval", `${beats} HEARTBEATs in ${window} ms, longest silence ${longest} ms for an interval of ${announced} ms`);
    }
    return true;
  }

  private async taskPhase(): Promise<boolean> {
    const first = this.sendTask(this.textId(), this.input(0));
    await this.answered([first], FIRST_ANSWER_MS);
    this.judgeAnswers();
    if (!this.results.failed("task.answer-id")) {
      this.results.pass("task.answer-id", `TASK ${showId(first)} (from scenario ${this.input(0).scenario}) answered with ${this.answerOf(first)}`);
    }

    const binary = this.binaryId();
    this.sendTask(binary, this.input(1));
    await this.answered([binary], this.answerWindow());
    const echoed = this.tasks.get(key(binary))?.answers[0];
    if (echoed === undefined) this.results.fail("task.opaque-id", `no RESULT or FAIL naming task ${showId(binary)}${this.instead()}`, this.misnamedHex());
    else this.results.pass("task.opaque-id", `${showId(binary)} echoed`);

    const burst = this.burst();
    const ids = burst.map((_, i) => this.sendTask(this.textId(), this.input(2 + i)));
    const done = await this.answered(ids, this.answerWindow());
    const capacity = this.ready?.capacity ?? 1;
    if (done) this.results.pass("task.capacity", `${ids.length} TASK(s) sent at once (capacity ${capacity}) all answered`);
    else {
      const missing = ids.filter((id) => this.tasks.get(key(id))?.answers.length === 0).map(showId);
      this.results.fail("task.capacity", `${ids.length} TASK(s) sent at once (capacity ${capacity}); no answer naming ${missing.join(", ")}${this.instead()}`, this.misnamedHex());
    }
    this.judgeAnswers();
    return true;
  }

  private async cancelPhase(): Promise<boolean> {
    const cancel = workerMessage("cancel", (msg) => msg.reason === "cancelled");
    const id = this.sendTask(this.textId(), this.input(0));
    this.router.send(this.peer, { ...cancel, task: id });
    const cancelledAt = this.clock();
    const sent = this.tasks.get(key(id));
    if (sent !== undefined) sent.cancelledAt = cancelledAt;
    await delay(150);
    const after = this.burst().map((_, i) => this.sendTask(this.textId(), this.input(3 + i)));
    const done = await this.answered(after, this.answerWindow());
    await delay(Math.max(0, cancelledAt + CANCEL_LATE_MS + 100 - this.clock()));
    this.scan();
    const answers = sent?.answers ?? [];
    const late = answers.find((seen) => seen.at - cancelledAt > CANCEL_LATE_MS);
    if (late !== undefined) {
      this.results.fail("cancel.honoured", `task ${showId(id)} answered ${late.at - cancelledAt} ms after its CANCEL: the worker did not stop it`, [framesHex(late.frames)]);
    } else if (!done) {
      this.results.fail(
        "cancel.honoured",
        `after CANCEL of task ${showId(id)}, ${after.length} new TASK(s) (capacity ${this.ready?.capacity ?? 1}) were not all answered` +
          (this.misnamed.length > 0 ? this.instead() : ` within ${this.answerWindow()} ms: the cancelled task still holds a slot`),
        this.misnamedHex(),
      );
    } else {
      const fate = answers.length === 0 ? "was not answered (stopped)" : `was answered ${answers[0] === undefined ? 0 : answers[0].at - cancelledAt} ms after the CANCEL was sent (crossing it: allowed)`;
      this.results.pass("cancel.honoured", `task ${showId(id)} ${fate}; ${after.length} TASK(s) sent after it all answered`);
    }
    return true;
  }

  /** The checker stops heartbeating: the worker must give up after 3 broker intervals and register again. */
  private async silencePhase(): Promise<boolean> {
    const old = this.peer;
    const mark = this.inbox.mark;
    this.router.mute(old);
    const silentFrom = this.router.lastSent(old) ?? this.clock();
    const dead = LIVENESS * this.options.heartbeat;
    const limit = dead + 3000;
    const again = await this.inbox.next((seen) => seen.msg?.type === "ready", Math.max(0, silentFrom + limit - this.clock()), mark);
    if (again === undefined) {
      this.results.fail("liveness.broker-silent", `no new READY within ${limit} ms of the broker's last message (the worker should give up after 3 x ${this.options.heartbeat} ms)`);
      return false;
    }
    const after = again.at - silentFrom;
    const where = again.peer === old ? "on the same connection" : "on a new connection";
    if (after < dead - 100) {
      this.results.fail("liveness.broker-silent", `gave up on the broker after ${after} ms, before 3 x ${this.options.heartbeat} ms`, [framesHex(again.frames)]);
    } else {
      this.results.pass("liveness.broker-silent", `READY ${where} ${after} ms after the broker's last message (dead after ${dead} ms)`);
    }
    return this.reregistered(again, "liveness.broker-silent");
  }

  /** Close the workers endpoint and bind it again: a restarted broker that knows nobody (§Reliability). */
  private async restartPhase(): Promise<boolean> {
    const at = this.clock();
    await this.router.close();
    await delay(300);
    const endpoint = this.router.endpoint;
    const mark = this.inbox.mark;
    this.router = await WorkersRouter.bind(endpoint, this.inbox, "broker", this.options.heartbeat, this.clock);
    const limit = LIVENESS * this.options.heartbeat + LIVENESS * (this.ready?.heartbeat ?? 1000) + 3000;
    const again = await this.inbox.next((seen) => seen.msg?.type === "ready", limit, mark);
    if (again === undefined) {
      this.results.fail("reconnect.restart", `no READY within ${limit} ms of the restart`);
      return false;
    }
    const how = this.router.unknownAnswered.size > 0 ? " (after DISCONNECT unknown-worker)" : "";
    this.results.pass("reconnect.restart", `READY ${again.at - at} ms after the broker went down, 300 ms of it down${how}`);
    return this.reregistered(again, "reconnect.restart");
  }

  /** DISCONNECT shutdown or protocol-error: silent on the old connection, READY on a new one (after a back-off). */
  private async disconnectPhase(id: WorkerCheckId, reason: "shutdown" | "protocol-error"): Promise<boolean> {
    const old = this.peer;
    const mark = this.inbox.mark;
    const detail = reason === "protocol-error" ? { reason, message: "ZTB_ERR_SCHEMA: sent by ztb conformance" } : { reason };
    this.router.send(old, { type: "disconnect", detail });
    this.router.forget(old);
    const at = this.clock();
    const again = await this.inbox.next((seen) => seen.msg?.type === "ready" && seen.peer !== old, 6500, mark);
    await delay(Math.max(0, at + CROSSING_MS + 500 - this.clock()));
    const stray = this.inbox.log.slice(mark).find((seen) => seen.peer === old && seen.at - at > CROSSING_MS);
    if (stray !== undefined) {
      this.results.fail(id, `sent ${describe(stray)} on the old connection ${stray.at - at} ms after DISCONNECT`, [framesHex(stray.frames)]);
    } else if (again === undefined) {
      this.results.fail(id, `no READY on a new connection within 6.5 s of DISCONNECT ${reason}`);
    } else {
      this.results.pass(id, `silent on the old connection, READY on a new one ${again.at - at} ms later`);
    }
    return again === undefined ? false : this.reregistered(again, id);
  }

  /** §Worker protocol rule 7: a TASK of another service is answered FAIL retryable (which also shows FAIL). */
  private async otherServicePhase(): Promise<boolean> {
    const input = this.input(0);
    const id = this.sendTask(this.textId(), { ...input, header: { ...input.header, service: OTHER_SERVICE } });
    await this.answered([id], this.answerWindow());
    const answer = this.tasks.get(key(id))?.answers[0];
    if (answer?.msg?.type === "fail" && answer.msg.retryable) {
      this.results.pass("task.other-service", `TASK for service "${OTHER_SERVICE}" answered ${describe(answer)}`);
    } else if (answer === undefined) {
      this.results.fail("task.other-service", `no answer to a TASK for service "${OTHER_SERVICE}"${this.instead()}: its slot stays taken`);
    } else {
      const what = answer.msg?.type === "fail" ? "FAIL retryable: false (it is not the task's fault)" : `${describe(answer)}: it ran a task of a service it does not serve`;
      this.results.fail("task.other-service", `TASK for service "${OTHER_SERVICE}" answered ${what}`, [framesHex(answer.frames)]);
    }
    return true;
  }

  /**
   * §Worker protocol rule 4: a TASK with a short timeout. A worker whose work outlasts half of it should EXTEND, each
   * EXTEND before the deadline then in force (the previous EXTEND's, or the TASK's from when it was sent).
   */
  private async extendPhase(): Promise<boolean> {
    const input = this.input(0);
    const id = this.sendTask(this.textId(), { ...input, header: { ...input.header, timeout: EXTEND_TIMEOUT_MS } });
    const sentAt = this.clock();
    await this.answered([id], this.answerWindow() + EXTEND_TIMEOUT_MS);
    const answer = this.tasks.get(key(id))?.answers[0];
    const extensions = this.inbox.log.filter(
      (seen) => seen.at >= sentAt && (answer === undefined || seen.at <= answer.at) && claims(seen.frames, "EXTEND"),
    );
    let deadline = sentAt + EXTEND_TIMEOUT_MS;
    for (const seen of extensions) {
      if (seen.msg?.type !== "extend") {
        this.results.fail("extend.deadline", `EXTEND is not valid: ${seen.error?.message ?? "?"}`, [framesHex(seen.frames)]);
        return true;
      }
      if (key(seen.msg.task) !== key(id)) {
        this.results.fail("extend.deadline", `EXTEND names task ${showId(seen.msg.task)}, which the worker does not hold`, [framesHex(seen.frames)]);
        return true;
      }
      if (seen.at > deadline) {
        this.results.fail("extend.deadline", `EXTEND ${seen.at - sentAt} ms after the TASK, ${seen.at - deadline} ms after the deadline it meant to move`, [framesHex(seen.frames)]);
        return true;
      }
      deadline = seen.at + seen.msg.timeout;
    }
    const first = extensions[0];
    if (first !== undefined) {
      this.results.pass("extend.deadline", `${extensions.length} EXTEND(s), the first ${first.at - sentAt} ms after a TASK with timeout ${EXTEND_TIMEOUT_MS} ms`);
    } else if (answer !== undefined && answer.at > deadline) {
      this.results.skip("extend.deadline", `answered ${answer.at - sentAt} ms after a TASK with timeout ${EXTEND_TIMEOUT_MS} ms, without EXTEND (rule 4 advises one)`);
    } else {
      this.results.skip("extend.deadline", `not observed: the worker answered within the ${EXTEND_TIMEOUT_MS} ms timeout (run it with slower work to see EXTEND)`);
    }
    return true;
  }

  /** §JSON members: a CANCEL whose reason this revision does not define (the spec's invalid vector) frees the slot. */
  private async unknownCancelPhase(): Promise<boolean> {
    const vector = invalidToWorker().find((input) => input.command === "CANCEL");
    if (vector === undefined) {
      this.results.skip("cancel.unknown-reason", "no invalid CANCEL vector in protocol/examples/invalid");
      return true;
    }
    const id = this.sendTask(this.textId(), this.input(0));
    this.router.sendRaw(this.peer, vector.frames(id));
    const sent = this.tasks.get(key(id));
    if (sent !== undefined) sent.cancelledAt = this.clock();
    await delay(150);
    const after = this.burst().map((_, i) => this.sendTask(this.textId(), this.input(3 + i)));
    const done = await this.answered(after, this.answerWindow());
    if (done) this.results.pass("cancel.unknown-reason", `after ${vector.name} for task ${showId(id)}, ${after.length} TASK(s) sent all answered`);
    else this.results.fail("cancel.unknown-reason", `after ${vector.name} for task ${showId(id)}, ${after.length} TASK(s) (capacity ${this.ready?.capacity ?? 1}) were not all answered: the slot was not freed`, this.misnamedHex());
    return true;
  }

  /** Rule 6: TASK, CANCEL timeout, the same id again (attempt 2): answered, and the capacity is still right. */
  private async repeatPhase(): Promise<boolean> {
    const input = this.input(0);
    const id = this.sendTask(this.textId(), input);
    this.router.send(this.peer, { type: "cancel", task: id, reason: "timeout" });
    await delay(100);
    const sent = this.tasks.get(key(id));
    if (sent === undefined) return true;
    const againAt = this.clock();
    sent.sends = 2;
    this.router.send(this.peer, { type: "task", task: id, header: { ...input.header, attempt: input.header.attempt + 1 }, payload: input.payload });
    const answeredAgain = (): boolean => {
      this.scan();
      return sent.answers.some((seen) => seen.at >= againAt);
    };
    if (!answeredAgain()) await this.inbox.next(answeredAgain, this.answerWindow(), this.inbox.mark);
    if (!answeredAgain()) {
      this.results.fail("task.repeat-id", `task ${showId(id)} sent again after CANCEL timeout was not answered within ${this.answerWindow()} ms`);
      return true;
    }
    const after = this.burst().map((_, i) => this.sendTask(this.textId(), this.input(4 + i)));
    if (await this.answered(after, this.answerWindow())) {
      this.results.pass("task.repeat-id", `task ${showId(id)} answered again as attempt ${input.header.attempt + 1}; ${after.length} TASK(s) after it all answered`);
    } else {
      this.results.fail("task.repeat-id", `after task ${showId(id)} came again, ${after.length} TASK(s) (capacity ${this.ready?.capacity ?? 1}) were not all answered`, this.misnamedHex());
    }
    return true;
  }

  /** The spec's invalid broker-to-worker vectors, then a TASK: the worker logs and drops them, or reconnects. */
  private async malformedPhase(): Promise<boolean> {
    const vectors = invalidToWorker().filter((input) => input.command !== "CANCEL" && input.command !== "DISCONNECT");
    const old = this.peer;
    const mark = this.inbox.mark;
    for (const vector of vectors) this.router.sendRaw(old, vector.frames(this.textId()));
    await delay(300);
    const parted = this.inbox.log.slice(mark).some((seen) => seen.peer === old && seen.msg?.type === "disconnect");
    if (parted) {
      this.router.forget(old);
      const again = await this.inbox.next((seen) => seen.msg?.type === "ready" && seen.peer !== old, 6500, mark);
      if (again === undefined) {
        this.results.fail("broker.malformed", "after DISCONNECT protocol-error the worker did not register again within 6.5 s");
        return false;
      }
      if (!this.reregistered(again, "broker.malformed")) return false;
    }
    const id = this.sendTask(this.textId(), this.input(0));
    const names = vectors.map((vector) => vector.name).join(", ");
    if (await this.answered([id], this.answerWindow())) {
      this.results.pass("broker.malformed", `after ${names}: ${parted ? "DISCONNECT protocol-error and a new READY (allowed), then" : "still connected,"} the next TASK was answered`);
    } else {
      this.results.fail("broker.malformed", `after ${names}, the next TASK was not answered${this.instead()}`);
    }
    return true;
  }

  /**
   * SIGTERM with a task in hand: a 1.1 worker announces DISCONNECT bye+finish, answers or gives back what it holds (a
   * TASK crossing the announcement included), then says bye (§Leaving without losing work). A plain bye passes
   * disconnect.bye and leaves leave.graceful skipped: the 1.0 way, whose held tasks are re-queued as worker lost.
   */
  private async byePhase(): Promise<boolean> {
    const mark = this.inbox.mark;
    const held = this.sendTask(this.textId(), this.input(0));
    await delay(50);
    const at = this.clock();
    this.proc.signal("SIGTERM");
    const isDisconnect = (seen: Seen<WorkerMessage>): boolean => seen.msg?.type === "disconnect" || claims(seen.frames, "DISCONNECT");
    const first = await Promise.race([
      this.inbox.next(isDisconnect, 3000, mark),
      this.proc.ended.then(() => delay(100)).then(() => this.inbox.log.slice(mark).find(isDisconnect)),
    ]);
    if (first === undefined) {
      this.results.fail("disconnect.bye", this.proc.running ? "no DISCONNECT within 3 s of SIGTERM" : `the command ${this.proc.describeExit()} without DISCONNECT`);
      this.results.skip("leave.graceful", "no DISCONNECT");
      return true;
    }
    if (first.msg?.type !== "disconnect") {
      this.results.fail("disconnect.bye", `DISCONNECT is not valid: ${first.error?.message ?? "?"}`, [framesHex(first.frames)]);
      this.results.skip("leave.graceful", "no valid DISCONNECT");
      return true;
    }
    const reason = first.msg.detail?.reason;
    if (first.msg.detail?.finish !== true) {
      this.results.pass("disconnect.bye", `DISCONNECT ${reason === undefined ? "without a reason" : JSON.stringify({ reason })} ${first.at - at} ms after SIGTERM`);
      this.results.skip("leave.graceful", "the worker left at once (a plain DISCONNECT, the 1.0 way): what it held is re-queued as worker lost");
      return true;
    }
    // A TASK crossing the announcement, as a broker may have sent one before it read it; only within the capacity.
    const crossing = (this.ready?.capacity ?? 1) > 1 ? this.sendTask(this.textId(), this.input(1)) : undefined;
    const from = this.inbox.log.indexOf(first) + 1;
    const last = await this.inbox.next(isDisconnect, LEAVE_WATCH_MS, from);
    if (last === undefined || last.msg?.type !== "disconnect" || last.msg.detail?.finish === true) {
      const why = last === undefined ? `no DISCONNECT bye within ${LEAVE_WATCH_MS} ms of announcing it` : `the second DISCONNECT is ${describe(last)}`;
      this.results.fail("leave.graceful", why);
      this.results.fail("disconnect.bye", why);
      return true;
    }
    this.scan();
    const fates: string[] = [];
    for (const id of crossing === undefined ? [held] : [held, crossing]) {
      const answer = this.tasks.get(key(id))?.answers.find((seen) => seen.at <= last.at);
      if (answer === undefined && id === crossing) {
        // It may still have been on its way when the worker, holding nothing, said bye: the broker gives it back.
        fates.push("crossing task not read before bye (the broker gives it back)");
        continue;
      }
      if (answer === undefined) {
        this.results.fail("leave.graceful", `said bye still holding task ${showId(id)}, neither answered nor given back (FAIL returned)`, [framesHex(last.frames)]);
        this.results.pass("disconnect.bye", `DISCONNECT bye ${last.at - at} ms after SIGTERM`);
        return true;
      }
      const returned = answer.msg?.type === "fail" && answer.msg.returned === true;
      fates.push(`${id === held ? "held" : "crossing"} task ${returned ? "given back" : answer.msg?.type === "result" ? "answered" : describe(answer)}`);
    }
    this.results.pass("leave.graceful", `bye+finish ${first.at - at} ms after SIGTERM; ${fates.join(", ")}; bye ${last.at - first.at} ms later`);
    this.results.pass("disconnect.bye", `DISCONNECT bye ${last.at - at} ms after SIGTERM`);
    return true;
  }

  /** A second run of the command: after DISCONNECT draining it must not register again (§DISCONNECT). */
  private async drainingPhase(): Promise<void> {
    const mark = this.inbox.mark;
    this.second = new PeerProcess(this.options.command, this.endpoints);
    const proc = this.second;
    const ready = await Promise.race([
      this.inbox.next((seen) => seen.msg?.type === "ready", START_MS, mark),
      proc.ended.then(() => undefined),
    ]);
    if (ready === undefined) {
      this.results.skip("disconnect.draining", `the command, started again, sent no READY within ${START_MS / 1000} s`);
      return;
    }
    this.router.send(ready.peer, { type: "disconnect", detail: { reason: "draining" } });
    this.router.forget(ready.peer);
    const at = this.clock();
    const again = await this.inbox.next((seen) => seen.msg?.type === "ready", DRAINING_WATCH_MS, this.inbox.mark);
    if (again !== undefined) {
      this.results.fail("disconnect.draining", `READY again ${again.at - at} ms after DISCONNECT draining: a retired worker must not come back`, [framesHex(again.frames)]);
    } else {
      const exited = await proc.exitWithin(500);
      this.results.pass("disconnect.draining", `no READY within ${DRAINING_WATCH_MS} ms of DISCONNECT draining${exited === undefined ? "" : "; the command exited"}`);
    }
  }

  private reregistered(seen: Seen<WorkerMessage>, after: WorkerCheckId): boolean {
    if (seen.msg?.type !== "ready") {
      this.results.fail(after, `the new READY is not valid: ${seen.error?.message ?? "?"}`, [framesHex(seen.frames)]);
      return false;
    }
    this.peer = seen.peer;
    this.ready = seen.msg.options;
    return true;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Tasks and their answers

  private input(i: number): TaskInput {
    const input = this.inputs[i % this.inputs.length];
    if (input === undefined) throw new Error("no task inputs");
    return input;
  }

  private burst(): number[] {
    return Array.from({ length: Math.min(this.ready?.capacity ?? 1, MAX_BURST) }, (_, i) => i);
  }

  /** Ids like the broker's (`<nonce>-<counter base36>`), so a worker cannot tell the checker from a broker. */
  private textId(): Frame {
    return Buffer.from(`${this.nonce}-${(++this.counter).toString(36)}`);
  }

  /** 16 octets like the 2010 prototype's ids, with a zero and a 0xff octet that text handling would mangle. */
  private binaryId(): Frame {
    const id = randomBytes(16);
    id[0] = 0x00;
    id[7] = 0xff;
    id[15] = 0x80;
    return id;
  }

  private sendTask(id: Frame, input: TaskInput): Frame {
    this.tasks.set(key(id), { id, at: this.clock(), answers: [] });
    this.router.send(this.peer, { type: "task", task: id, header: input.header, payload: input.payload });
    return id;
  }

  /**
   * Waits until every id in `ids` has an answer; false on timeout. Answers naming unknown ids count as attempts, so
   * a worker that gets ids wrong is judged at once instead of after the whole timeout.
   */
  private async answered(ids: Frame[], timeoutMs: number): Promise<boolean> {
    const foreignBefore = this.foreign.length;
    const missing = (): number => ids.filter((id) => (this.tasks.get(key(id))?.answers.length ?? 0) === 0).length;
    const settled = (): boolean => {
      this.scan();
      return missing() <= this.foreign.length - foreignBefore;
    };
    if (!settled()) await this.inbox.next(settled, timeoutMs, this.inbox.mark);
    this.misnamed = this.foreign.slice(foreignBefore).map(({ seen }) => seen);
    return missing() === 0;
  }

  /** Files every RESULT and FAIL under the task it names (or as foreign when it names no task sent). */
  private scan(): void {
    for (; this.scanned < this.inbox.log.length; this.scanned++) {
      const seen = this.inbox.log[this.scanned];
      if (seen?.msg?.type !== "result" && seen?.msg?.type !== "fail") continue;
      if (seen.msg.type === "fail") this.fails.push(seen);
      const sent = this.tasks.get(key(seen.msg.task));
      if (sent !== undefined) sent.answers.push(seen);
      else this.foreign.push({ seen, expected: this.oldestOpen(seen.at) });
    }
  }

  private oldestOpen(at: number): Frame | undefined {
    let oldest: SentTask | undefined;
    for (const sent of this.tasks.values()) {
      if (sent.at <= at && sent.answers.length === 0 && sent.cancelledAt === undefined && (oldest === undefined || sent.at < oldest.at)) oldest = sent;
    }
    return oldest?.id;
  }

  /** For a missing answer: what came instead, if anything. */
  private instead(): string {
    if (this.misnamed.length === 0) return ` within ${ANSWER_MS} ms`;
    const names = this.misnamed.map((seen) => (seen.msg?.type === "result" || seen.msg?.type === "fail" ? showId(seen.msg.task) : "?"));
    return `; answered naming ${names.join(", ")} instead (see task.answer-id)`;
  }

  private misnamedHex(): string[] {
    return this.misnamed.slice(0, 3).map((seen) => framesHex(seen.frames));
  }

  /** How long to wait for answers: ANSWER_MS, or 3 x the slowest answer seen so far plus a second when longer. */
  private answerWindow(): number {
    let slowest = 0;
    for (const sent of this.tasks.values()) {
      const answer = sent.answers[0];
      if (answer !== undefined && sent.cancelledAt === undefined) slowest = Math.max(slowest, answer.at - sent.at);
    }
    return Math.max(ANSWER_MS, 3 * slowest + 1000);
  }

  private answerOf(id: Frame): string {
    const seen = this.tasks.get(key(id))?.answers[0];
    return seen === undefined ? "nothing" : describe(seen);
  }

  private judgeAnswers(): void {
    this.scan();
    for (const { seen, expected } of this.foreign) {
      const command = seen.msg?.type === "fail" ? "FAIL" : "RESULT";
      const task = seen.msg?.type === "result" || seen.msg?.type === "fail" ? showId(seen.msg.task) : "?";
      const was = expected === undefined ? "no TASK is open" : `TASK was ${showId(expected)}`;
      this.results.fail("task.answer-id", `${command} names task ${task} but ${was}`, [framesHex(seen.frames)]);
    }
    for (const sent of this.tasks.values()) {
      const twice = sent.answers[sent.sends ?? 1];
      if (twice !== undefined) this.results.fail("task.answer-id", `task ${showId(sent.id)} answered twice`, [framesHex(twice.frames)]);
    }
    const first = [...this.tasks.values()][0];
    if (first !== undefined && first.answers.length === 0 && this.foreign.length === 0 && !this.results.has("task.answer-id")) {
      this.results.fail("task.answer-id", `no RESULT or FAIL naming task ${showId(first.id)} within ${ANSWER_MS} ms`);
    }
    if (this.fails.length === 0) {
      if (!this.results.has("task.fail")) {
        this.results.skip("task.fail", "not observed: the worker answered every task with RESULT (run it in a mode that fails tasks to check FAIL)");
      }
      return;
    }
    const fail = this.fails[0];
    if (fail?.msg?.type === "fail") {
      const held = this.tasks.has(key(fail.msg.task));
      if (held) {
        this.results.pass("task.fail", `FAIL ${JSON.stringify({ message: fail.msg.message, retryable: fail.msg.retryable })} for task ${showId(fail.msg.task)}`);
      } else {
        this.results.fail("task.fail", `FAIL for task ${showId(fail.msg.task)}, which the worker does not hold`, [framesHex(fail.frames)]);
      }
    }
  }

  private judgeSchema(): void {
    const bad = [...this.inbox.errors(), ...this.answersInbox.errors()];
    const total = this.inbox.log.length + this.answersInbox.log.length;
    if (bad.length === 0) {
      this.results.pass("schema.messages", `${total} messages, all decoded`);
      return;
    }
    const codes = [...new Set(bad.map((seen) => seen.error?.code ?? "?"))].join(", ");
    this.results.fail(
      "schema.messages",
      `${bad.length} of ${total} messages are not valid ZTB/1 (${codes}); first: ${bad[0]?.error?.message ?? "?"}`,
      bad.slice(0, 3).map((seen) => framesHex(seen.frames)),
    );
  }

  private skipRest(why: string): void {
    for (const id of Object.keys(WORKER_CHECKS) as WorkerCheckId[]) {
      if (!this.results.has(id) && id !== "schema.messages" && id !== "task.fail" && id !== "task.answer-id") this.results.skip(id, why);
    }
    if (this.tasks.size === 0) {
      this.results.skip("task.answer-id", why);
      this.results.skip("task.fail", why);
    }
  }
}

function key(id: Frame): string {
  return Buffer.from(id).toString("hex");
}

/** Whether a message names `command` in its command frame, valid or not (for reports about invalid messages). */
function claims(frames: readonly Frame[], command: string): boolean {
  return claimedCommand(frames) === command;
}

function describe(seen: Seen<WorkerMessage>): string {
  const msg = seen.msg;
  if (msg === undefined) return `an invalid message (${seen.error?.code ?? "?"})`;
  switch (msg.type) {
    case "result":
      return `RESULT (${msg.payload.length} frame${msg.payload.length === 1 ? "" : "s"})`;
    case "fail":
      return `FAIL ${JSON.stringify({ message: msg.message, retryable: msg.retryable })}`;
    default:
      return msg.type.toUpperCase();
  }
}

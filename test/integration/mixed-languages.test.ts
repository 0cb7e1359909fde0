/**
 * Mixed-language interoperability over real sockets: one BrokerServer serving Python workers (ztb_worker.py), a
 * TypeScript Worker and a LegacyWorker (the prototype's REQ/PUSH) at the same time, to the Python CLI client, an
 * enveloped Client and a PlainClient (protocol/spec.md §Client <-> broker, §Worker <-> broker).
 *
 * Why every worker is certain to work (not luck): each worker holds one task at a time and takes DELAY_MS per task,
 * and all 200+ requests are sent at once after the admin SNAPSHOT shows every worker registered. Dispatch only goes to
 * workers with free capacity (§Scheduling rule 1), so the first tasks go to distinct idle workers and the queue stays
 * non-empty for far longer than any worker is idle.
 */
import assert from "node:assert/strict";
import { Client, PlainClient, type Reply } from "../../broker/src/client";
import type { BrokerServer, EndpointSet } from "../../broker/src/server/broker-server";
import { LegacyWorker, Worker } from "../../broker/src/worker";
import type { Snapshot } from "../../broker/src/protocol/messages";
import { LOOPBACK, startBroker, text } from "../runtime/harness";
import { AdminProbe } from "./admin-snapshot";
import { PythonProcesses, requirePyzmq, type PythonRun } from "./python-peers";

const WITH_ADMIN: EndpointSet = { ...LOOPBACK, admin: "tcp://127.0.0.1:*" };
const DELAY_MS = 20;
const ENVELOPED = 100;
const PLAIN = 100;
const PY_NAMES = ["py-echo-1", "py-echo-2"];
const TS_NAME = "ts-echo";
const FAILER = "py-failer";
const FLAKY = "flaky";

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The Python client's stdout: `status: …`, optional `detail: {json}`, then `frame i: …` lines. */
function parseCliReply(stdout: string): { status?: string; worker?: string; frames: string[] } {
  const lines = stdout.split("\n");
  const status = lines.find((l) => l.startsWith("status: "))?.slice("status: ".length);
  const detail = lines.find((l) => l.startsWith("detail: "))?.slice("detail: ".length);
  const frames = lines.filter((l) => /^frame \d+: /.test(l)).map((l) => l.replace(/^frame \d+: /, ""));
  const worker = detail === undefined ? undefined : (JSON.parse(detail) as { worker?: string }).worker;
  return { status, worker, frames };
}

function describeRun(run: PythonRun): string {
  return `stdout:\n${run.stdout()}\nstderr:\n${run.stderr()}`;
}

function byName(snapshot: Snapshot, name: string): Snapshot["workers"][number] | undefined {
  return snapshot.workers.find((w) => w.name === name);
}

describe("integration: Python, TypeScript and legacy peers on one broker", function () {
  const python = new PythonProcesses();
  let server: BrokerServer | undefined;
  let endpoints: EndpointSet;
  let admin: AdminProbe | undefined;
  let tsWorker: Worker | undefined;
  let legacy: LegacyWorker | undefined;
  let client: Client | undefined;
  let plain: PlainClient | undefined;

  before(async function () {
    requirePyzmq();
    ({ server, endpoints } = await startBroker({ tries: 3, timeout: 2000, endpoints: WITH_ADMIN }));
    admin = new AdminProbe(endpoints.admin ?? "");
    const delay = ["--delay", String(DELAY_MS), "--heartbeat", "200"];
    // One worker finds the broker through the environment, the other through the flag (both are documented).
    python.worker(["--name", PY_NAMES[0] ?? "", ...delay], { ZTB_WORKERS_ENDPOINT: endpoints.workers });
    python.worker(["--workers", endpoints.workers, "--name", PY_NAMES[1] ?? "", ...delay]);
    python.worker(["--workers", endpoints.workers, "--name", FAILER, "--service", FLAKY, "--fail-rate", "1", "--fail-permanent"]);
    tsWorker = new Worker({
      endpoint: endpoints.workers,
      name: TS_NAME,
      heartbeat: 200,
      handler: async (task) => {
        await pause(DELAY_MS);
        return task.payload;
      },
    });
    tsWorker.start();
    legacy = new LegacyWorker({
      workers: endpoints.workers,
      answers: endpoints.answers,
      handler: async (task) => {
        await pause(DELAY_MS);
        return task.payload;
      },
    });
    legacy.start();
    await admin.until("all five workers registered", (s) =>
      [...PY_NAMES, TS_NAME, FAILER].every((name) => byName(s, name) !== undefined) && s.workers.some((w) => w.kind === "legacy"),
    );
    client = new Client({ endpoint: endpoints.clients, deadline: 10_000 });
    plain = new PlainClient({ endpoint: endpoints.clients, deadline: 10_000 });
  });

  after(async function () {
    await python.killAll();
    client?.close();
    plain?.close();
    admin?.close();
    await tsWorker?.close();
    await legacy?.close();
    await server?.close();
  });

  it("answers every request exactly once with its own payload, and every worker takes part", async function () {
    assert.ok(client && plain && admin);
    const cliRequests = [
      { payload: "py-cli-0", args: [] as string[] },
      { payload: "py-cli-1", args: [] },
      { payload: "py-cli-plain", args: ["--plain"] },
    ];
    const cliRuns = cliRequests.map(({ payload, args }) =>
      python.client([...args, "--wait", "10000", payload], { ZTB_CLIENTS_ENDPOINT: endpoints.clients }),
    );
    const enveloped = Array.from({ length: ENVELOPED }, (_, i) => client?.request([`env-${i}`, "second frame"]));
    const plainReplies = Array.from({ length: PLAIN }, (_, i) => plain?.request(`plain-${i}`));

    const replies = (await Promise.all(enveloped)) as Reply[];
    const answeredBy = new Map<string, number>();
    replies.forEach((reply, i) => {
      assert.equal(reply.status, "succeeded", `env-${i}: ${reply.reason ?? ""} ${reply.message ?? ""}`);
      assert.deepEqual(text(reply.payload), [`env-${i}`, "second frame"]);
      assert.ok(reply.worker !== undefined, `env-${i} names no worker`);
      answeredBy.set(reply.worker, (answeredBy.get(reply.worker) ?? 0) + 1);
    });
    const plainAnswers = await Promise.all(plainReplies);
    plainAnswers.forEach((reply, i) => {
      assert.ok(reply?.ok, `plain-${i} failed`);
      assert.deepEqual(text(reply.payload), [`plain-${i}`]);
    });
    for (const [i, run] of cliRuns.entries()) {
      const request = cliRequests[i];
      assert.ok(request);
      assert.equal(await run.exited, 0, `ztb_client.py ${request.payload} exited non-zero\n${describeRun(run)}`);
      const reply = parseCliReply(run.stdout());
      assert.equal(reply.status, "succeeded", describeRun(run));
      assert.deepEqual(reply.frames, [request.payload], describeRun(run));
      if (request.args.length === 0) assert.ok(reply.worker, `enveloped CLI reply names no worker\n${describeRun(run)}`);
    }
    // Exactly one reply each: nothing arrived for a request already answered or never sent.
    assert.deepEqual(client.stats, { duplicates: 0, late: 0, unmatched: 0, resent: 0, failovers: 0, resends: 0 });
    assert.deepEqual(plain.stats, { duplicates: 0, late: 0, unmatched: 0, resent: 0, failovers: 0, resends: 0 });

    const total = ENVELOPED + PLAIN + cliRequests.length;
    const snapshot = await admin.until("every reply counted", (s) => s.counters.replies >= total);
    assert.equal(snapshot.counters.requests, total);
    assert.equal(snapshot.counters.replies, total);
    assert.equal(snapshot.counters.succeeded, total);
    assert.equal(snapshot.counters.failed, 0);
    const echoers = snapshot.workers.filter((w) => w.name !== FAILER);
    assert.equal(echoers.length, 4, JSON.stringify(snapshot.workers));
    for (const worker of echoers) assert.ok(worker.done > 0, `${worker.name} (${worker.kind}) did no work`);
    // libzmq's generated routing ids are binary; the broker-made legacy name must still be printable.
    const legacyName = echoers.find((w) => w.kind === "legacy")?.name ?? "";
    assert.match(legacyName, /^legacy-[\x21-\x7e]+$/, JSON.stringify(legacyName));
    assert.equal(echoers.reduce((sum, w) => sum + w.done, 0), total, "done counters sum to the requests");
    assert.equal(byName(snapshot, FAILER)?.done, 0, "the failer serves another service");
    for (const name of answeredBy.keys()) assert.ok(byName(snapshot, name), `reply from unknown worker ${name}`);
  });

  it("relays a Python worker's non-retryable FAIL to a TypeScript client as worker-failed", async function () {
    assert.ok(client && admin);
    const reply = await client.request("doomed", { service: FLAKY });
    assert.equal(reply.status, "failed");
    assert.equal(reply.reason, "worker-failed");
    assert.equal(reply.worker, FAILER);
    assert.equal(reply.attempts, 1, "a non-retryable FAIL ends the task at once");
    assert.equal(reply.message, "simulated permanent failure");
    assert.deepEqual(reply.payload, []);
    const snapshot = await admin.snapshot();
    assert.equal(byName(snapshot, FAILER)?.failed, 1);
  });
});

describe("integration: a Python worker killed with SIGKILL mid-task", function () {
  const python = new PythonProcesses();
  let server: BrokerServer | undefined;
  let admin: AdminProbe | undefined;
  let client: Client | undefined;

  before(requirePyzmq);

  afterEach(async function () {
    await python.killAll();
    client?.close();
    admin?.close();
    await server?.close();
  });

  it("has its task re-dispatched to another worker long before the 10 s attempt timeout", async function () {
    const timeout = 10_000;
    const broker = await startBroker({ tries: 3, timeout, endpoints: WITH_ADMIN });
    server = broker.server;
    const probe = (admin = new AdminProbe(broker.endpoints.admin ?? ""));
    // 60 s of simulated work: only the victim's death can end its attempt early.
    const victim = python.worker(["--workers", broker.endpoints.workers, "--name", "py-victim", "--delay", "60000"]);
    await probe.until("py-victim registered", (s) => byName(s, "py-victim") !== undefined);

    client = new Client({ endpoint: broker.endpoints.clients, deadline: 15_000 });
    const reply = client.request("survive me");
    await probe.until("py-victim holds the task", (s) => byName(s, "py-victim")?.held === 1);
    // The rescuer registers only now, so the first attempt cannot have gone to it.
    python.worker(["--workers", broker.endpoints.workers, "--name", "py-rescuer"]);
    await probe.until("py-rescuer registered", (s) => byName(s, "py-rescuer") !== undefined);

    const killedAt = Date.now();
    victim.child.kill("SIGKILL");
    const answer = await reply;
    const after = Date.now() - killedAt;

    assert.equal(answer.status, "succeeded", `${answer.reason ?? ""} ${answer.message ?? ""}`);
    assert.equal(answer.worker, "py-rescuer");
    assert.equal(answer.attempts, 2);
    assert.deepEqual(text(answer.payload), ["survive me"]);
    assert.ok(after < 3000, `answered ${after} ms after the kill (attempt timeout ${timeout} ms)`);
    assert.equal(await victim.exited, null, "the victim died of the signal");
  });

  it("gives the Python client's deadline to the broker, which answers expired: no worker serves the service", async function () {
    const broker = await startBroker({ endpoints: WITH_ADMIN });
    server = broker.server;
    const run = python.client(["--clients", broker.endpoints.clients, "--service", "nobody", "--deadline", "300", "hello"]);
    assert.equal(await run.exited, 1, run.stderr());
    assert.match(run.stdout(), /^reason: expired$/m);
    assert.match(run.stdout(), /^message: no worker serves "nobody"/m);
  });
});

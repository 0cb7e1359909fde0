/**
 * The Python client (ztb_client.py) given two brokers fails over (protocol/spec.md §Failing over): real `ztb broker`
 * processes, TypeScript workers, the Python CLI as child processes; broker A is SIGKILLed while it holds their requests.
 */
import assert from "node:assert/strict";
import { Worker } from "../../broker/src/worker";
import { type BrokerProcess, spawnBroker } from "../chaos/broker-process";
import { counters, deadEndpoint, until } from "../reliability/brokers";
import { PythonProcesses, requirePyzmq } from "./python-peers";

const ARGS = ["--heartbeat", "200", "--log-level", "error"];
const CLIENTS = 3;

describe("integration: the Python client fails over between brokers", function () {
  this.timeout(60_000);
  const python = new PythonProcesses();
  const brokers: BrokerProcess[] = [];
  const workers: Worker[] = [];

  before(requirePyzmq);
  afterEach(async () => {
    await python.killAll();
    for (const w of workers.splice(0)) await w.close();
    for (const b of brokers.splice(0)) await b.stop();
  });

  async function brokerWithWorker(name: string, hold: boolean): Promise<BrokerProcess> {
    const b = await spawnBroker(ARGS);
    brokers.push(b);
    const w = new Worker({
      endpoint: b.endpoints.workers,
      name,
      capacity: CLIENTS,
      heartbeat: 200,
      handler: async (task) => {
        if (hold) await new Promise((_, reject) => task.signal.addEventListener("abort", () => reject(task.signal.reason)));
        return task.payload;
      },
    });
    w.start();
    workers.push(w);
    await until(`${name} registered`, async () => (await counters(b)).workers === 1);
    return b;
  }

  it("SIGKILL of broker A with the requests pending: each client gets its reply from B", async () => {
    const a = await brokerWithWorker("on-a", true);
    const b = await brokerWithWorker("on-b", false);
    const runs = Array.from({ length: CLIENTS }, (_, i) =>
      python.client(["--clients", `${a.endpoints.clients},${b.endpoints.clients}`, "--wait", "30000", `py ${i}`]),
    );
    await until("A holds every request", async () => (await counters(a)).requests === CLIENTS);
    a.child.kill("SIGKILL");
    for (const [i, run] of runs.entries()) {
      assert.equal(await run.exited, 0, run.stderr());
      assert.match(run.stdout(), /^status: succeeded$/m);
      assert.match(run.stdout(), /"worker":"on-b"/);
      assert.match(run.stdout(), new RegExp(`^frame 0: py ${i}$`, "m"));
      assert.match(run.stderr(), /gone \(disconnected\); sending to /);
    }
    assert.equal((await counters(b)).requests, CLIENTS, "B ran each request once");
  });

  it("a first endpoint nobody listens on is skipped", async () => {
    const b = await brokerWithWorker("on-b", false);
    const run = python.client(["--clients", `${await deadEndpoint()},${b.endpoints.clients}`, "hello"]);
    assert.equal(await run.exited, 0, run.stderr());
    assert.match(run.stdout(), /^frame 0: hello$/m);
    assert.match(run.stderr(), /gone \(refused\)/);
  });
});

/**
 * Optional same-run baseline: the 2010 Python prototype's broker, when the person running the benchmark points
 * ZTB_PROTOTYPE_BROKER at its broker.py (it is not part of this repository). It is started with a Python that has
 * pyzmq (ZTB_PYTHON, default /usr/bin/python3) and fed by the same legacy workers and pipelining client as ours.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { freePorts } from "./free-ports";
import { type BrokerEndpoints, killOnExit } from "./processes";

export function prototypePath(): string | undefined {
  const file = process.env.ZTB_PROTOTYPE_BROKER;
  return file !== undefined && existsSync(file) ? file : undefined;
}

/** Starts the prototype broker without limits (no -t/-T), as the throughput comparison needs. */
export async function startPrototype(file: string): Promise<{ child: ChildProcess; endpoints: BrokerEndpoints }> {
  const [c, w, a] = await freePorts(3);
  const endpoints = {
    clients: `tcp://127.0.0.1:${c}`,
    workers: `tcp://127.0.0.1:${w}`,
    answers: `tcp://127.0.0.1:${a}`,
    admin: "",
  };
  const python = process.env.ZTB_PYTHON ?? "/usr/bin/python3";
  const child = killOnExit(spawn(python, [file, endpoints.clients, endpoints.workers, endpoints.answers], { stdio: ["ignore", "ignore", "inherit"] }));
  // The prototype prints nothing when it is ready: give it a moment to bind.
  await new Promise((resolve) => setTimeout(resolve, 700));
  if (child.exitCode !== null) throw new Error(`the prototype broker exited (${child.exitCode}); does ${python} have pyzmq?`);
  return { child, endpoints };
}

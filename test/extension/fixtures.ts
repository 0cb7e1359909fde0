/** Admin-protocol values for the extension's unit tests (shapes of ztb-brief §Admin). */
import { newCounters } from "../../broker/src/core/counters";
import type { AdminEvent, Counters, Snapshot, TaskView, WorkerView } from "../../broker/src/protocol/messages";

export const T0 = 1_700_000_000_000;

export function counters(over: Partial<Counters> = {}): Counters {
  return { ...newCounters(), ...over };
}

export function task(id: string, over: Partial<TaskView> = {}): TaskView {
  return {
    id,
    service: "default",
    state: "queued",
    attempt: 0,
    attempts: 3,
    worker: null,
    origin: "enveloped",
    createdAt: T0,
    size: 5,
    preview: { text: "hello" },
    ...over,
  };
}

export function worker(id: string, over: Partial<WorkerView> = {}): WorkerView {
  return {
    id,
    name: `name-${id}`,
    kind: "modern",
    state: "idle",
    services: ["default"],
    capacity: 1,
    held: 0,
    tasks: [],
    done: 0,
    failed: 0,
    lastSeen: T0,
    heartbeat: 1000,
    ...over,
  };
}

export function snapshot(over: Partial<Snapshot> = {}): Snapshot {
  return {
    seq: 10,
    time: T0,
    broker: {
      version: "0.1.0",
      endpoints: { clients: "tcp://*:4161", workers: "tcp://*:4162", answers: "tcp://*:4163", admin: "tcp://127.0.0.1:4164" },
      tries: 3,
      timeout: 2000,
      heartbeat: 1000,
      maxQueue: null,
      startedAt: T0 - 60_000,
      state: "running",
    },
    counters: counters(),
    workers: [],
    tasks: { total: 0, offset: 0, items: [] },
    ...over,
  };
}

export function event(seq: number, over: Partial<AdminEvent> = {}): AdminEvent {
  return { seq, time: T0, counters: counters(), tasks: [], workers: [], removed: { tasks: [], workers: [] }, ...over };
}

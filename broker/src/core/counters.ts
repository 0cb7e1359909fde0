/** The broker's counters (protocol/spec.md §Admin, Counters), kept in one mutable record and copied for views. */
import type { Counters } from "../protocol/messages";
import type { Endpoint } from "./api";

export function newCounters(): Counters {
  return {
    queued: 0,
    running: 0,
    succeeded: 0,
    failed: 0,
    cancelled: 0,
    retried: 0,
    workers: 0,
    requests: 0,
    replies: 0,
    late: 0,
    rejected: 0,
    deduplicated: 0,
    malformed: { client: 0, worker: 0, answers: 0, admin: 0 },
  };
}

export function copyCounters(c: Counters): Counters {
  return { ...c, malformed: { ...c.malformed } };
}

/** The `malformed` member counting messages that arrived on `endpoint`. */
export function malformedKey(endpoint: Endpoint): keyof Counters["malformed"] {
  switch (endpoint) {
    case "clients":
      return "client";
    case "workers":
      return "worker";
    case "answers":
      return "answers";
    case "admin":
      return "admin";
  }
}

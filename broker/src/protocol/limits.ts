/**
 * The protocol's limits (protocol/spec.md §Limits, §JSON members, §Heartbeating, §Admin), in one place: the bounds a
 * schema of protocol/schemas holds are read from it, never retyped, and the rest are the spec's constants. The core,
 * the codec, the worker library, the clients, the CLI, the conformance checker and the extension take them from here.
 * (The broker's configurable limits — queue length, history — are part of the core's configuration.)
 */
import common from "../../../protocol/schemas/common.schema.json";
import fail from "../../../protocol/schemas/fail.schema.json";
import ready from "../../../protocol/schemas/ready.schema.json";
import snapshotQuery from "../../../protocol/schemas/snapshot-query.schema.json";
import subscribe from "../../../protocol/schemas/subscribe.schema.json";

/** A heartbeat interval a peer announces (READY `heartbeat`, HEARTBEAT frames) and the broker's `--heartbeat`, in ms. */
export const HEARTBEAT = { min: ready.properties.heartbeat.minimum, max: ready.properties.heartbeat.maximum } as const;

/** True when `ms` is an interval a receiver applies (§Heartbeating rule 4: others are ignored). */
export function inHeartbeatRange(ms: number): boolean {
  return ms >= HEARTBEAT.min && ms <= HEARTBEAT.max;
}

/** §Heartbeating rule 2: a peer is dead after LIVENESS x its announced interval of silence. */
export const LIVENESS = 3;

/** READY `capacity`: tasks a worker may hold at once. */
export const CAPACITY = { min: ready.properties.capacity.minimum, max: ready.properties.capacity.maximum } as const;

/** READY `services`: how many services one worker serves. */
export const MAX_SERVICES = ready.properties.services.maxItems;

/** Worker and service names, in characters. */
export const MAX_NAME = common.$defs.name.maxLength;

/** REQUEST `id` (correlation id) and `key` (idempotency key), in characters. */
export const MAX_CORRELATION_ID = common.$defs.correlationId.maxLength;
export const MAX_KEY = common.$defs.idempotencyKey.maxLength;

/** FAIL and DISCONNECT `message`, in characters. */
export const MAX_FAIL_MESSAGE = fail.properties.message.maxLength;

/** Admin SNAPSHOT `tasks.limit` (its default is the spec's, not the schema's). */
export const PAGE = { max: snapshotQuery.properties.tasks.properties.limit.maximum, default: 100 } as const;

/** Admin SUBSCRIBE `lease` in ms (its default is the spec's). */
export const LEASE = { min: subscribe.properties.lease.minimum, max: subscribe.properties.lease.maximum, default: 10_000 } as const;

/** Task ids are opaque frames of 1..255 octets (§Task ids). */
export const MAX_TASK_ID_OCTETS = 255;

/** Heartbeat intervals are 1..6 ASCII decimal digits (§HEARTBEAT). */
export const MAX_INTERVAL_DIGITS = 6;

/**
 * JSON frames a peer sends the broker are small (the largest, READY, is ~2.5 KB at its bounds); refusing bigger
 * ones before JSON.parse keeps a hostile peer from stalling the broker's event loop.
 */
export const MAX_JSON_TO_BROKER = 65536;

/**
 * The bounds of one whole message a peer sends the broker, counted after the ROUTER's routing id
 * (`--max-message`, `--max-frames`). Over either one, the message is ZTB_ERR_TOO_LARGE.
 */
export interface MessageBounds {
  /** Octets of all frames together. */
  readonly maxOctets: number;
  /** Number of frames. */
  readonly maxFrames: number;
}

/** `--max-message`: 16 MiB, the default of the 2010 prototype's era of payloads (images, documents). */
export const DEFAULT_MAX_MESSAGE = 16 * 1024 * 1024;

/**
 * `--max-frames`. A frame costs the broker ~0.4 KB of bookkeeping whatever its size (a Buffer per frame in
 * zeromq.js and Node), so without a count bound 200 000 empty frames — 0.4 MB on the wire — cost ~80 MB. The
 * protocol itself needs at most 5 frames besides the routing path and the payload, and applications use a handful;
 * 256 leaves room for both while keeping that bookkeeping at ~100 KB per message, small beside `--max-message`.
 */
export const DEFAULT_MAX_FRAMES = 256;

/** The smallest `--max-frames` that still carries every command (TASK is 5 frames before its payload). */
export const MIN_MAX_FRAMES = 8;

export const DEFAULT_BOUNDS: MessageBounds = { maxOctets: DEFAULT_MAX_MESSAGE, maxFrames: DEFAULT_MAX_FRAMES };

/**
 * `--max-unsent`: octets the broker's send queues hold for one peer that does not read, beyond the 64 messages libzmq
 * keeps (broker/src/server/sockets.ts). Twice the default `--max-message`, so a peer that reads slowly is not cut off
 * from large replies, while one that never reads costs a bounded amount. The message that finds a peer at libzmq's mark
 * is always kept, whatever its size.
 */
export const DEFAULT_MAX_UNSENT = 32 * 1024 * 1024;

/** `--max-unsent-total`: octets the send queues hold for all peers together. */
export const DEFAULT_MAX_UNSENT_TOTAL = 256 * 1024 * 1024;

/**
 * Every `timeout` of the protocol — REQUEST, TASK header, EXTEND — is 1..MAX_TIMEOUT ms (§JSON members, since 1.1):
 * 2^31 - 1, the largest delay a signed 32-bit millisecond timer takes, so any language's timer or poll call can
 * wait for it. `-T` is bounded by it too.
 */
export const MAX_TIMEOUT = 2_147_483_647;

/** §Heartbeating: announced intervals are used only within this range (a value outside is ignored); HEARTBEAT's. */
export const HEARTBEAT_MIN = HEARTBEAT.min;
export const HEARTBEAT_MAX = HEARTBEAT.max;

/**
 * §Heartbeating rule 3: until a worker has heard from the broker it waits LIVENESS × min(own interval, this), the
 * broker's default interval, so a worker with a long interval retries a broker that is down within seconds.
 */
export const REGISTRATION_INTERVAL_CAP = 2500;

/** §Reconnecting: the back-off's first delay and ceiling, in ms. */
export const BACKOFF_FIRST = 100;
export const BACKOFF_MAX = 5000;

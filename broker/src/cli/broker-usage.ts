import {
  DEFAULT_MAX_FRAMES,
  DEFAULT_MAX_MESSAGE,
  DEFAULT_MAX_UNSENT,
  DEFAULT_MAX_UNSENT_TOTAL,
  HEARTBEAT,
  MIN_MAX_FRAMES,
} from "../protocol/limits";
import { HANDSHAKE_TIMEOUT_MS, ROUTER_SEND_HWM } from "../server/sockets";
import { FRAME_COST, HISTORY_BYTES } from "../core/retention";

const bytes = (n: number): string => `${n} = ${n / (1024 * 1024)} MiB`;

/** The text of `ztb broker --help`; the bounds come from where they are defined. */
export const BROKER_USAGE = `Usage: ztb broker [options] CLIENTS WORKERS ANSWERS

Runs the ztb task broker. Clients send requests to CLIENTS (ROUTER), workers fetch tasks from WORKERS (ROUTER),
legacy workers push their answers to ANSWERS (PULL). Tasks only go to workers with free capacity; an attempt that
times out is retried on another worker, and the client gets a failure reply after the last attempt.

Options:
  -t, --tries N          maximum attempts per task, including the first (default: unlimited)
  -T, --timeout SECONDS  time allowed for each attempt, e.g. 2 or 0.5 (default: unlimited)
  --deadline TIME        time allowed for a request from its arrival to its reply, queue wait
                         included, e.g. 30s or 5m: past it the request fails with "expired" (saying
                         when no worker serves its service); the default and the cap of a
                         request's own deadline (default: unlimited)
  --admin ENDPOINT       admin endpoint for monitors such as the VS Code extension (default: on
                         127.0.0.1, the CLIENTS port + 3 — 4164 for the prototype's 4161 —, or
                         CLIENTS.admin for ipc, else tcp://127.0.0.1:4164; keep it on loopback)
  --no-admin             no admin endpoint
  --heartbeat MS         broker heartbeat interval announced to workers, ${HEARTBEAT.min}..${HEARTBEAT.max} (default: 2500)
  --max-queue N          tasks allowed to wait per service; beyond that requests fail with queue-full
                         (default: unlimited)
  --history N            succeeded and cancelled tasks kept for monitors, per state (default: 1000)
  --history-bytes SIZE   octets of request and reply frames each history (succeeded, cancelled,
                         failed) keeps, each frame counted with ${FRAME_COST} more; the oldest go first
                         beyond it, e.g. 256M (default: ${bytes(HISTORY_BYTES)}; with --max-memory a share)
  --keep-failed N        failed tasks kept, with their payload, until a monitor retries or deletes
                         them; the oldest go first beyond N (default: 10000)
  --keep-results TIME    how long a finished task with an idempotency key answers resends with the
                         same key, e.g. 10m, 90s, 0 = not kept (default: 10m)
  --data DIR             durable: keep tasks, results, dead letters and counters in a journal in DIR
                         (SQLite); a restart, even after kill -9, recovers every task it accepted.
                         One broker per DIR. Without --data the broker keeps nothing across restarts.
  --fsync POLICY         with --data, when commits reach the disk: always (survives power loss),
                         batch (survives a crash of the broker, not of the OS), off (default: always)
  --max-journal SIZE     with --data, refuse to grow the journal beyond SIZE: the broker stops with
                         an error instead of filling the disk (default: no limit)
  --cluster URL[,URL...] cluster mode: share one task queue with every broker started with the same
                         NATS JetStream (nats://HOST:PORT of one or more nats-server nodes); workers
                         and clients connect to any broker. Tasks and kept results live in JetStream,
                         not here (cannot be used with --data). Every broker of a cluster needs the
                         same -t, --lease, --replicas and --keep-results
  --cluster-name NAME    the cluster's stream, bucket and subjects are named after it (default: ztb)
  --broker-id ID         this broker's address in the cluster, unique per broker (default: host name
                         and a random suffix)
  --replicas N           copies JetStream keeps of each task and result, 1..5: 3 survives the loss of
                         one NATS node of three (default: 1)
  --lease TIME           a broker that dies holding tasks gives them back after this long (renewed
                         while it lives), e.g. 30s (default: 30s)
  --nats-creds FILE      NATS credentials (.creds); or --nats-user U --nats-password P; or
                         --nats-token T
  --nats-tls-ca FILE     TLS to NATS: CA to verify the servers; --nats-tls-cert/--nats-tls-key FILE
                         for a client certificate
  --max-message SIZE     largest message accepted from any peer, all its frames together (default:
                         ${bytes(DEFAULT_MAX_MESSAGE)}); a bigger message is refused with ZTB_ERR_TOO_LARGE, and a
                         peer sending a single bigger frame is disconnected by libzmq
  --max-frames N         most frames in one message from any peer, at least ${MIN_MAX_FRAMES} (default: ${DEFAULT_MAX_FRAMES}); more is
                         refused with ZTB_ERR_TOO_LARGE
  --max-unsent SIZE      outgoing octets held for one peer that does not read its messages, beyond the
                         ${ROUTER_SEND_HWM} messages libzmq keeps per peer; past it messages to that peer are dropped,
                         counted and logged (default: ${bytes(DEFAULT_MAX_UNSENT)}; with --max-memory a share)
  --metrics HOST:PORT    serve Prometheus metrics at http://HOST:PORT/metrics (requests, replies by
                         status and reason, retries, queues and running tasks per service, workers by
                         state, attempt durations, connections per endpoint, and with --max-memory the
                         memory and load shedding); e.g. 127.0.0.1:9464
                         (default: off)
  --max-memory SIZE      memory budget of the broker, e.g. 512M or 2G: new requests are refused with
                         queue-full while the memory it holds reaches 80 % of SIZE or its resident memory
                         90 %, until both stay under for a second; --history-bytes, --max-unsent and
                         --max-unsent-total default to shares of it, and tasks for services no worker
                         serves get one too (the start line says what they came to; default: no budget)
  --max-unsent-total SIZE  the same for all peers together (default: ${bytes(DEFAULT_MAX_UNSENT_TOTAL)};
                         with --max-memory a share)
  --service NAME         accept only this service (repeatable; default: any service)
  --grace MS             on SIGINT/SIGTERM, time running tasks get before pending clients are failed
                         (default: 5000; a second signal exits at once)
  --log-level LEVEL      debug, info, warn or error (default: warn)
  --log-format FORMAT    text or json, one JSON object per line (default: text); logs go to stderr
  --curve-secret FILE    CURVE on every endpoint with this key pair (a NAME.key_secret from ztb keygen);
                         peers then need their own key in an allow-list and --server-key NAME.key
  --client-keys PATH     allowed client public keys: a file (one Z85 key per line, # comments) or a
                         directory of NAME.key files; re-read on SIGHUP
  --worker-keys PATH     allowed worker public keys (workers and answers endpoints), same format
  --admin-keys PATH      allowed monitor public keys (admin endpoint), same format
                         (with --curve-secret, an endpoint whose list is not given refuses everyone)
  -h, --help             show this help

Bounds (protocol/spec.md §Limits): each message by --max-message and --max-frames; outgoing memory per
peer by --max-unsent (+ ${ROUTER_SEND_HWM} messages inside libzmq) and in total by --max-unsent-total; a connection that has
not finished the ZeroMQ handshake within ${HANDSHAKE_TIMEOUT_MS / 1000} s is closed. Each connection takes a file descriptor: Node raises
the soft nofile limit to the hard one at start; raise the hard one (ulimit -Hn, systemd LimitNOFILE) for
many peers. Accept failures at the limit are logged (accept-failed).

Endpoints are ZeroMQ addresses: tcp://*:4161 (all interfaces), tcp://127.0.0.1:4161, ipc:///tmp/ztb-clients.

Example (the 2010 prototype's walk-through: 3 attempts of at most 2 seconds each):
  ztb broker -t 3 -T 2 "tcp://*:4161" "tcp://*:4162" "tcp://*:4163"
The same broker, durable (nothing it accepted is lost to a crash, kill -9 or reboot):
  ztb broker -t 3 -T 2 --data /var/lib/ztb "tcp://*:4161" "tcp://*:4162" "tcp://*:4163"
Two brokers of one cluster over NATS JetStream (README: Cluster mode):
  ztb broker -t 3 -T 2 --cluster nats://127.0.0.1:4222 "tcp://*:4161" "tcp://*:4162" "tcp://*:4163"
  ztb broker -t 3 -T 2 --cluster nats://127.0.0.1:4222 "tcp://*:5161" "tcp://*:5162" "tcp://*:5163"
`;

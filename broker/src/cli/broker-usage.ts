/** The text of `ztb broker --help`. */
export const BROKER_USAGE = `Usage: ztb broker [options] CLIENTS WORKERS ANSWERS

Runs the ztb task broker. Clients send requests to CLIENTS (ROUTER), workers fetch tasks from WORKERS (ROUTER),
legacy workers push their answers to ANSWERS (PULL). Tasks only go to workers with free capacity; an attempt that
times out is retried on another worker, and the client gets a failure reply after the last attempt.

Options:
  -t, --tries N          maximum attempts per task, including the first (default: unlimited)
  -T, --timeout SECONDS  time allowed for each attempt, e.g. 2 or 0.5 (default: unlimited)
  --admin ENDPOINT       admin endpoint for monitors such as the VS Code extension
                         (default: tcp://127.0.0.1:4164; keep it on loopback)
  --no-admin             no admin endpoint
  --heartbeat MS         broker heartbeat interval announced to workers, 100..60000 (default: 2500)
  --max-queue N          tasks allowed to wait per service; beyond that requests fail with queue-full
                         (default: unlimited)
  --max-message BYTES    largest message accepted from any peer (default: 16777216 = 16 MiB)
  --history N            succeeded and cancelled tasks kept for monitors, per state (default: 1000)
  --keep-failed N        failed tasks kept, with their payload, until a monitor retries or deletes
                         them; the oldest go first beyond N (default: 10000)
  --keep-results TIME    how long a finished task with an idempotency key answers resends with the
                         same key, e.g. 10m, 90s, 0 = not kept (default: 10m)
  --data DIR             durable: keep tasks, results, dead letters and counters in a journal in DIR
                         (SQLite); a restart, even after kill -9, recovers every task it accepted.
                         One broker per DIR. Without --data the broker keeps nothing across restarts.
  --fsync POLICY         with --data, when commits reach the disk: always (survives power loss),
                         batch (survives a crash of the broker, not of the OS), off (default: always)
  --max-journal BYTES    with --data, refuse to grow the journal beyond BYTES: the broker stops with
                         an error instead of filling the disk (default: no limit)
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

Endpoints are ZeroMQ addresses: tcp://*:4161 (all interfaces), tcp://127.0.0.1:4161, ipc:///tmp/ztb-clients.

Example (the 2010 prototype's walk-through: 3 attempts of at most 2 seconds each):
  ztb broker -t 3 -T 2 "tcp://*:4161" "tcp://*:4162" "tcp://*:4163"
The same broker, durable (nothing it accepted is lost to a crash, kill -9 or reboot):
  ztb broker -t 3 -T 2 --data /var/lib/ztb "tcp://*:4161" "tcp://*:4162" "tcp://*:4163"
`;

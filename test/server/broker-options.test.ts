/** `ztb broker` argument parsing: defaults, units, and one clear message per mistake. */
import assert from "node:assert/strict";
import { DEFAULT_ADMIN_ENDPOINT, parseBrokerArgs, UsageError } from "../../broker/src/cli/broker-options";

const ENDPOINTS = ["tcp://*:4161", "tcp://*:4162", "tcp://*:4163"];

describe("cli: ztb broker options", () => {
  it("defaults to the prototype's unlimited tries and timeout, a loopback admin endpoint, quiet logs", () => {
    const options = parseBrokerArgs(ENDPOINTS);
    assert.deepEqual(
      { ...options },
      {
        help: false,
        clients: "tcp://*:4161",
        workers: "tcp://*:4162",
        answers: "tcp://*:4163",
        admin: DEFAULT_ADMIN_ENDPOINT,
        cluster: null,
        tries: null,
        timeout: null,
        deadline: null,
        heartbeat: 2500,
        maxQueue: null,
        maxMessage: 16 * 1024 * 1024,
        maxFrames: 256,
        // Left to the server: the defaults, or with --max-memory shares of it (core/memory-budget.ts).
        maxUnsent: undefined,
        maxMemory: undefined,
        metrics: undefined,
        maxUnsentTotal: undefined,
        history: 1000,
        historyBytes: undefined,
        services: [],
        grace: 5000,
        logLevel: "warn",
        logFormat: "text",
        data: null,
        fsync: "always",
        maxJournal: undefined,
        keepResults: 600_000,
        keepFailed: 10_000,
        security: { curveSecret: undefined, clientKeys: undefined, workerKeys: undefined, adminKeys: undefined },
      },
    );
    assert.equal(DEFAULT_ADMIN_ENDPOINT, "tcp://127.0.0.1:4164");
  });

  it("--deadline takes a duration above 0 (a bare number is seconds)", () => {
    assert.equal(parseBrokerArgs(["--deadline", "30s", ...ENDPOINTS]).deadline, 30_000);
    assert.equal(parseBrokerArgs(["--deadline", "1.5", ...ENDPOINTS]).deadline, 1500);
    assert.throws(() => parseBrokerArgs(["--deadline", "0", ...ENDPOINTS]), (err: unknown) => err instanceof UsageError && /--deadline must be a duration above 0/.test(err.message));
    assert.throws(() => parseBrokerArgs(["--deadline", "soon", ...ENDPOINTS]), UsageError);
  });

  it("puts the default admin endpoint three ports above the clients port, so a second broker on other ports starts", () => {
    const admin = (clients: string): string | null => parseBrokerArgs([clients, "tcp://*:2", "tcp://*:3"]).admin;
    assert.equal(admin("tcp://*:4161"), "tcp://127.0.0.1:4164");
    assert.equal(admin("tcp://0.0.0.0:5161"), "tcp://127.0.0.1:5164");
    assert.equal(admin("ipc:///run/ztb/clients"), "ipc:///run/ztb/clients.admin");
    assert.equal(admin("tcp://127.0.0.1:*"), DEFAULT_ADMIN_ENDPOINT);
    assert.equal(admin("tcp://*:65534"), DEFAULT_ADMIN_ENDPOINT);
    assert.equal(parseBrokerArgs(["--admin", "tcp://127.0.0.1:9999", "tcp://*:5161", "tcp://*:2", "tcp://*:3"]).admin, "tcp://127.0.0.1:9999");
  });

  it("reads --data, --fsync, --keep-results and --keep-failed, and refuses durability options without --data", () => {
    const durable = parseBrokerArgs(["--data", "/var/lib/ztb", "--fsync", "batch", "--keep-results", "90s", "--keep-failed", "7", ...ENDPOINTS]);
    assert.deepEqual([durable.data, durable.fsync, durable.keepResults, durable.keepFailed], ["/var/lib/ztb", "batch", 90_000, 7]);
    assert.deepEqual(["1.5h", "500ms", "0", "2"].map((t) => parseBrokerArgs(["--keep-results", t, ...ENDPOINTS]).keepResults), [5_400_000, 500, 0, 2000]);
    assert.throws(() => parseBrokerArgs(["--fsync", "batch", ...ENDPOINTS]), /--fsync needs --data/);
    assert.throws(() => parseBrokerArgs(["--data", "d", "--fsync", "sometimes", ...ENDPOINTS]), /--fsync must be one of always, batch, off, not "sometimes"/);
    assert.throws(() => parseBrokerArgs(["--keep-results", "ten minutes", ...ENDPOINTS]), /--keep-results must be a duration like 10m/);
  });

  it("reads -t as attempts and -T as (fractional) seconds, stored in ms", () => {
    assert.deepEqual(
      [parseBrokerArgs(["-t", "3", "-T", "2", ...ENDPOINTS]).timeout, parseBrokerArgs(["-T", "0.25", ...ENDPOINTS]).timeout],
      [2000, 250],
    );
    assert.equal(parseBrokerArgs(["-t", "3", ...ENDPOINTS]).tries, 3);
    assert.equal(parseBrokerArgs(["-T", "0.0001", ...ENDPOINTS]).timeout, 1, "at least 1 ms");
  });

  it("takes every long option", () => {
    const options = parseBrokerArgs([
      ...ENDPOINTS,
      "--no-admin",
      "--heartbeat=500",
      "--max-queue",
      "50",
      "--max-message",
      "1024",
      "--max-frames",
      "16",
      "--max-unsent",
      "4096",
      "--max-unsent-total",
      "64K",
      "--history",
      "0",
      "--history-bytes",
      "256M",
      "--service",
      "resize",
      "--service",
      "ocr",
      "--grace",
      "0",
      "--log-level",
      "debug",
      "--log-format",
      "json",
    ]);
    assert.equal(options.admin, null);
    assert.equal(options.heartbeat, 500);
    assert.equal(options.maxQueue, 50);
    assert.equal(options.maxMessage, 1024);
    assert.equal(options.maxFrames, 16);
    assert.equal(options.maxUnsent, 4096);
    assert.equal(options.maxUnsentTotal, 65536);
    assert.equal(options.history, 0);
    assert.equal(options.historyBytes, 256 * 1024 * 1024);
    assert.deepEqual(options.services, ["resize", "ocr"]);
    assert.equal(options.grace, 0);
    assert.equal(options.logLevel, "debug");
    assert.equal(options.logFormat, "json");
    assert.equal(parseBrokerArgs(["--admin", "ipc:///tmp/a", ...ENDPOINTS]).admin, "ipc:///tmp/a");
  });

  it("--help needs no endpoints", () => {
    assert.equal(parseBrokerArgs(["--help"]).help, true);
    assert.equal(parseBrokerArgs(["-h"]).help, true);
  });

  for (const [args, message] of [
    [["-t", "1.5"], '-t must be an integer >= 1, not "1.5"'],
    [["-t", "-1"], 'option -t needs a value (write --tries=VALUE for a value starting with "-")'],
    [["--tries=-1"], '-t must be an integer >= 1, not "-1"'],
    [["-T", "0"], '-T must be a positive number of seconds, not "0"'],
    [["-T", "1e3"], '-T must be a positive number of seconds, not "1e3"'],
    [["--heartbeat", "50"], '--heartbeat must be an integer from 100 to 60000, not "50"'],
    [["--max-queue", "0"], '--max-queue must be an integer >= 1, not "0"'],
    [["--max-frames", "7"], '--max-frames must be an integer >= 8, not "7"'],
    [["--max-unsent", "1.5M"], '--max-unsent must be a size like 64K, 512M or 2G (or octets), at least 1, not "1.5M"'],
    [["--history-bytes", "100k"], '--history-bytes must be a size like 64K, 512M or 2G (or octets), at least 1M, not "100k"'],
    [["--max-memory", "32M"], '--max-memory must be a size like 64K, 512M or 2G (or octets), at least 64M, not "32M"'],
    [["--log-format", "xml"], '--log-format must be one of text, json, not "xml"'],
    [["--service", ""], "--service must be 1 to 64 characters"],
    [["--grace"], "option --grace needs a value"], // last argument: nothing follows
    [["--no-admin=yes"], "option --no-admin takes no value"],
  ] as const) {
    it(`rejects ${args.join(" ")}`, () => {
      assert.throws(() => parseBrokerArgs([...ENDPOINTS, ...args]), (err: unknown) => {
        assert.ok(err instanceof UsageError);
        assert.equal(err.message, message);
        return true;
      });
    });
  }

  it("rejects something that is not an endpoint before trying to bind it", () => {
    assert.throws(() => parseBrokerArgs(["4161", "tcp://*:2", "tcp://*:3"]), /clients endpoint "4161" is not a ZeroMQ endpoint/);
  });
});

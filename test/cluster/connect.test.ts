/**
 * Connecting to NATS: each way it can fail at start is its own error class with a one-line message, as
 * `ztb broker --cluster` prints it before exiting with status 2 (issue 11).
 */
import { strict as assert } from "node:assert";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ClusterAuthError,
  ClusterConfigError,
  ClusterUnreachableError,
  connectCluster,
  JetStreamUnavailableError,
  natsConnectionOptions,
} from "../../broker/src/cluster";
import { freePorts } from "../../broker/bench/free-ports";
import { NatsCluster } from "./nats-harness";

function oneLine(error: unknown): string {
  assert.ok(error instanceof Error);
  assert.ok(!error.message.includes("\n"), `one line: ${error.message}`);
  return error.message;
}

describe("cluster: connecting to NATS", function () {
  this.timeout(30_000);

  it("fails with ClusterUnreachableError naming the servers when none listens", async () => {
    const [a, b] = await freePorts(2);
    const servers = [`nats://127.0.0.1:${a}`, `nats://127.0.0.1:${b}`];
    await assert.rejects(connectCluster({ servers, name: "t", connectTimeout: 2000 }), (error: unknown) => {
      assert.ok(error instanceof ClusterUnreachableError, String(error));
      assert.deepEqual(error.servers, servers);
      assert.ok(oneLine(error).includes(servers.join(",")));
      assert.ok(error.cause !== undefined, "keeps the library's error as cause");
      return true;
    });
  });

  it("refuses options that cannot work before connecting: no server, unreadable creds, a certificate without its key", () => {
    assert.throws(() => natsConnectionOptions({ servers: [], name: "t" }), ClusterConfigError);
    assert.throws(
      () => natsConnectionOptions({ servers: ["nats://127.0.0.1:4222"], name: "t", auth: { kind: "creds", file: "/nonexistent/ztb.creds" } }),
      (error: unknown) => error instanceof ClusterConfigError && oneLine(error).includes("/nonexistent/ztb.creds"),
    );
    assert.throws(
      () => natsConnectionOptions({ servers: ["nats://127.0.0.1:4222"], name: "t", tls: { certFile: "/x.pem" } }),
      ClusterConfigError,
    );
  });

  it("passes a credentials file, user/password, token and TLS files to the client library", () => {
    const dir = mkdtempSync(join(tmpdir(), "ztb-creds-"));
    try {
      const file = join(dir, "ztb.creds");
      writeFileSync(file, "not checked until the server asks");
      const servers = ["nats://127.0.0.1:4222"];
      assert.notEqual(natsConnectionOptions({ servers, name: "t", auth: { kind: "creds", file } }).authenticator, undefined);
      const user = natsConnectionOptions({ servers, name: "t", auth: { kind: "user", user: "u", password: "p" } });
      assert.deepEqual([user.user, user.pass], ["u", "p"]);
      assert.equal(natsConnectionOptions({ servers, name: "t", auth: { kind: "token", token: "s3cret" } }).token, "s3cret");
      const tls = natsConnectionOptions({ servers, name: "t", tls: { caFile: file, certFile: file, keyFile: file } }).tls;
      assert.deepEqual(tls, { caFile: file, certFile: file, keyFile: file });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe("a server requiring a user and password", () => {
    let nats: NatsCluster;
    before(async () => {
      nats = await NatsCluster.start({ nodes: 1, auth: { user: "ztb", password: "right" } });
    });
    after(async () => nats?.stop());

    it("connects with them, and fails with ClusterAuthError with wrong ones", async () => {
      const conn = await connectCluster({ servers: nats.urls, name: "t", auth: { kind: "user", user: "ztb", password: "right" } });
      await conn.close();
      await assert.rejects(
        connectCluster({ servers: nats.urls, name: "t", auth: { kind: "user", user: "ztb", password: "wrong" } }),
        (error: unknown) => error instanceof ClusterAuthError && oneLine(error).includes(nats.urls[0] ?? "?"),
      );
    });
  });

  describe("a server without JetStream", () => {
    let nats: NatsCluster;
    before(async () => {
      nats = await NatsCluster.start({ nodes: 1, jetstream: false });
    });
    after(async () => nats?.stop());

    it("fails with JetStreamUnavailableError", async () => {
      await assert.rejects(connectCluster({ servers: nats.urls, name: "t" }), (error: unknown) => {
        assert.ok(error instanceof JetStreamUnavailableError, String(error));
        assert.ok(oneLine(error).includes("-js"));
        return true;
      });
    });
  });
});

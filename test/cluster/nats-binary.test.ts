/** A missing nats-server fails the cluster suites with the install hint; it never skips them. */
import { strict as assert } from "node:assert";
import { INSTALL_HINT, natsServerPath } from "./nats-binary";
import { NatsCluster } from "./nats-harness";

describe("cluster: the nats-server binary", () => {
  const saved = process.env.ZTB_NATS_SERVER;
  afterEach(() => {
    if (saved === undefined) delete process.env.ZTB_NATS_SERVER;
    else process.env.ZTB_NATS_SERVER = saved;
  });

  it("is found on this machine (the other cluster suites need it)", () => {
    delete process.env.ZTB_NATS_SERVER;
    assert.match(natsServerPath(), /nats-server$/);
  });

  it("when missing, makes the harness fail with one line saying how to install it", async () => {
    process.env.ZTB_NATS_SERVER = "/nonexistent/nats-server";
    await assert.rejects(NatsCluster.start({ nodes: 1 }), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.ok(!error.message.includes("\n"), "one line");
      assert.ok(error.message.includes("apt-get install nats-server"), error.message);
      return true;
    });
    assert.ok(INSTALL_HINT.includes("apt-get install nats-server"));
  });
});

/**
 * Cluster mode, the origin side of a publish (protocol/spec.md §Cluster mode), driven with the fake clock: a request the
 * shared queue did not store is refused with `unavailable`, and that refusal is not the key's outcome — a resend of
 * the key is a new try, published again. Found by `npm run chaos -- --cluster`: after a nats-server node kill, keys
 * whose publish had failed were answered `unavailable` (duplicate: true) from the kept refusal on every resend.
 */
import assert from "node:assert/strict";
import type { ClusterRequest } from "../../broker/src/core/api";
import { Harness, tasksSent } from "./harness";

function publishes(h: Harness): Extract<ClusterRequest, { kind: "cluster-publish" }>[] {
  return h.log.flatMap((o) => (o.kind === "cluster" && o.request.kind === "cluster-publish" ? [o.request] : []));
}

function replies(h: Harness) {
  return h.log.flatMap((o) => (o.kind === "to-client" && o.msg.type === "reply" ? [o.msg.detail] : []));
}

describe("cluster mode: a publish the queue did not store", () => {
  it("refuses the request with unavailable and publishes a resend of its key again, not the kept refusal", () => {
    const h = new Harness({ cluster: { name: "c", broker: "b0" } });
    h.request("c1", "job", { id: "1", key: "order-1" });
    const first = publishes(h)[0];
    assert.ok(first !== undefined, "the request was published");
    h.in({ kind: "cluster", event: { kind: "cluster-publish-failed", task: first.task.task, error: "jetstream is not enabled" } });
    assert.deepEqual(
      replies(h).map((d) => [d.id, d.status, d.reason]),
      [["1", "failed", "unavailable"]],
    );

    h.request("c1", "job", { id: "2", key: "order-1" });
    assert.equal(publishes(h).length, 2, "the resend was published again");
    const second = replies(h)[1];
    assert.equal(second, undefined, `the resend was answered from the refusal: ${JSON.stringify(second)}`);
  });

  it("expires a request at its deadline where its client waits, and takes it out of the cluster", () => {
    const h = new Harness({ cluster: { name: "c", broker: "b0" }, deadline: 5000 });
    h.request("c1", "job", { id: "1" });
    const published = publishes(h)[0];
    assert.ok(published !== undefined);
    h.in({ kind: "cluster", event: { kind: "cluster-published", task: published.task.task, seq: 7, duplicate: false } });
    h.advance(4999);
    assert.deepEqual(replies(h), []);
    h.advance(1);
    assert.deepEqual(replies(h).map((d) => [d.id, d.status, d.reason]), [["1", "failed", "expired"]]);
    const cancels = h.log.flatMap((o) => (o.kind === "cluster" && o.request.kind === "cluster-cancel" ? [o.request] : []));
    assert.deepEqual(cancels, [{ kind: "cluster-cancel", task: published.task.task, seq: 7 }]);
  });

  it("settles a task delivered again after it finished here with the outcome it had, without running it again", () => {
    // Found by the cluster chaos under load: the second delivery threw ("task … is here already") inside the core,
    // the turn's outputs were lost, and the task came back every lease, never answered.
    const h = new Harness({ cluster: { name: "c", broker: "b1" } });
    h.ready("w1", { capacity: 2 });
    const spec = { task: "other-7", service: "default", key: "k7", timeout: null, attempts: 3, origin: "b0", client: "other-7", accepted: 0, payload: [Buffer.from("job")] };
    h.in({ kind: "cluster", event: { kind: "cluster-fetched", service: "default", tasks: [{ lease: "9.1", deliveryCount: 1, task: spec }] } });
    assert.deepEqual(tasksSent(h.log).map(([, id]) => id), ["other-7"], "run under the id its client sees");
    h.result("w1", "other-7", "done");
    const settles = () => h.log.flatMap((o) => (o.kind === "cluster" && o.request.kind === "cluster-settle" ? [o.request] : []));
    assert.deepEqual(settles().map((r) => [r.lease, r.ack]), [["9.1", true]]);
    const again = h.in({ kind: "cluster", event: { kind: "cluster-fetched", service: "default", tasks: [{ lease: "9.2", deliveryCount: 2, task: spec }] } });
    assert.deepEqual(tasksSent(again), [], "not run again");
    assert.deepEqual(settles().map((r) => [r.lease, r.ack, r.keep?.key]), [["9.1", true, "k7"], ["9.2", true, "k7"]]);
    const replies = h.log.flatMap((o) => (o.kind === "cluster" && o.request.kind === "cluster-reply" ? [o.request] : []));
    assert.deepEqual(replies.map((r) => [r.origin, r.reply.task, r.reply.detail.status]), [["b0", "other-7", "succeeded"], ["b0", "other-7", "succeeded"]]);
  });
});

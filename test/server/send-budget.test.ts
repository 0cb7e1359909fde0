/**
 * The send queue's byte budget over real sockets (protocol/spec.md §Limits): a ROUTER at its 64-message high-water
 * mark for one DEALER that does not read keeps that peer's later messages in order in a backlog bounded in bytes, drops
 * and counts what does not fit, sends the backlog once the peer reads, and keeps serving another peer meanwhile.
 */
import assert from "node:assert/strict";
import { Dealer } from "zeromq";
import { PEER_GONE_FRAME } from "../../broker/src/codec";
import { Logger } from "../../broker/src/server/logger";
import { peerKey } from "../../broker/src/server/peer-keys";
import { SendBudget, SendQueue } from "../../broker/src/server/send-queue";
import { createRouter, ROUTER_SEND_HWM } from "../../broker/src/server/sockets";

const MESSAGE = 16 * 1024;
const PER_PEER = 1024 * 1024;

async function connectedPeer(router: ReturnType<typeof createRouter>, endpoint: string, options: ConstructorParameters<typeof Dealer>[0]): Promise<{ dealer: Dealer; peer: string }> {
  const dealer = new Dealer({ linger: 0, receiveTimeout: 5000, ...options });
  dealer.connect(endpoint);
  await dealer.send("hello");
  const [id] = await router.receive();
  assert.ok(id);
  return { dealer, peer: peerKey(id) };
}

describe("server: send queue byte budget (real ROUTER and DEALERs)", function () {
  this.timeout(20_000);

  it("holds at most the per-peer budget for a peer that does not read, in order, and delivers it once it reads", async () => {
    const router = createRouter({ maxMessageSize: -1, peerGoneFrame: PEER_GONE_FRAME });
    const lines: string[] = [];
    const queue = new SendQueue(router, "clients", new Logger("debug", "json", { write: (l: string) => lines.push(l) }), new SendBudget(PER_PEER, 64 * PER_PEER));
    try {
      await router.bind("tcp://127.0.0.1:*");
      const endpoint = router.lastEndpoint ?? "";
      const slow = await connectedPeer(router, endpoint, { receiveHighWaterMark: 1 });
      const other = await connectedPeer(router, endpoint, {});

      const total = 2000; // 31 MiB for the slow peer: far over libzmq's 64 messages, the kernel's buffers and the budget
      for (let i = 0; i < total; i++) {
        queue.push([Buffer.from(slow.peer, "latin1"), Buffer.from(String(i)), Buffer.alloc(MESSAGE)], slow.peer);
        assert.ok(queue.waitingFor(slow.peer) <= PER_PEER, `${queue.waitingFor(slow.peer)} octets waiting`);
        await new Promise((resolve) => setImmediate(resolve)); // let the queue hand messages to libzmq meanwhile
      }
      // The other peer is served while the slow one is blocked.
      queue.push([Buffer.from(other.peer, "latin1"), Buffer.from("for the other")], other.peer);
      assert.deepEqual((await other.dealer.receive()).map(String), ["for the other"]);
      assert.ok(queue.counters.dropped > 0, "some messages were over the budget");
      const blocked = lines.filter((l) => l.includes('"send-blocked"')).length;
      assert.ok(blocked >= 1, "the peer reached libzmq's high-water mark and its messages waited in the backlog");
      const warnings = lines.filter((l) => l.includes('"send-over-budget"'));
      // One line for the peer's first drop, then at most one a second.
      assert.ok(warnings.length >= 1 && warnings.length < 10, `${warnings.length} send-over-budget lines`);

      // Once the slow peer reads, it gets every message that was not counted as dropped, in the order sent. (Drops are
      // not only at the end: the kernel's buffers take more as TCP auto-tunes, which frees room in the budget.)
      const received: number[] = [];
      const expected = total - queue.counters.dropped;
      while (received.length < expected) received.push(Number(String((await slow.dealer.receive())[0])));
      for (let i = 1; i < received.length; i++) assert.ok((received[i] ?? 0) > (received[i - 1] ?? 0), `order at ${i}`);
      assert.ok(expected > ROUTER_SEND_HWM, `${expected} delivered: the backlog was sent once the peer read`);
      await queue.drained();
      assert.equal(queue.waitingFor(slow.peer), 0);
      slow.dealer.close();
      other.dealer.close();
    } finally {
      router.close();
    }
  });
});

import assert from "node:assert/strict";
import { Deque, LruSet } from "../../broker/src/core/queues";
import { TimerHeap } from "../../broker/src/core/timer-heap";

describe("core structures: Deque", () => {
  it("keeps FIFO order across growth and push-front", () => {
    const d = new Deque<number>();
    for (let i = 0; i < 100; i++) d.pushBack(i);
    for (let i = 0; i < 50; i++) assert.equal(d.popFront(), i);
    d.pushFront(-1);
    assert.equal(d.peekFront(), -1);
    assert.equal(d.length, 51);
    d.retain((x) => x % 2 === 0);
    assert.deepEqual([...d].slice(0, 3), [50, 52, 54]);
  });

  // The send queues' use (moved here from the shell's former Fifo): many pushes, interleaved pops, drained to empty,
  // so the deque grows past the shrink threshold and halves again on the way down.
  it("keeps order across growth and shrinking with interleaved pops", () => {
    const d = new Deque<number>();
    let next = 0;
    for (let i = 0; i < 5000; i++) {
      d.pushBack(i);
      if (i % 3 === 0) assert.equal(d.popFront(), next++);
    }
    while (d.length > 0) assert.equal(d.popFront(), next++);
    assert.equal(next, 5000);
    assert.equal(d.popFront(), undefined);
  });

  it("clear empties it and it is usable again", () => {
    const d = new Deque<number>();
    for (let i = 0; i < 3000; i++) d.pushBack(i);
    d.clear();
    assert.equal(d.length, 0);
    assert.equal(d.popFront(), undefined);
    d.pushBack(7);
    assert.deepEqual([...d], [7]);
  });
});

describe("core structures: LruSet", () => {
  it("returns keys least recently used first", () => {
    const l = new LruSet<string>();
    l.add("a");
    l.add("b");
    l.add("a");
    assert.deepEqual([l.first(), l.second()], ["a", "b"]);
    l.touch("a");
    assert.deepEqual([l.first(), l.second()], ["b", "a"]);
    l.delete("b");
    assert.deepEqual([l.first(), l.second()], ["a", undefined]);
    l.delete("a");
    assert.deepEqual([l.first(), l.second()], [undefined, undefined]);
  });
});

describe("core structures: TimerHeap", () => {
  it("pops in time order, ties in insertion order, and removes from the middle", () => {
    const h = new TimerHeap<string>();
    const times = [50, 10, 30, 10, 70, 20, 60];
    const timers = times.map((t, i) => h.add(t, `${t}:${i}`));
    h.remove(timers[2]);
    h.remove(timers[2]);
    const popped: string[] = [];
    for (let t = h.popDue(100); t !== undefined; t = h.popDue(100)) popped.push(t.data);
    assert.deepEqual(popped, ["10:1", "10:3", "20:5", "50:0", "60:6", "70:4"]);
    assert.equal(h.size, 0);
  });

  it("does not pop timers that are not due", () => {
    const h = new TimerHeap<number>();
    h.add(10, 1);
    assert.equal(h.popDue(9), undefined);
    assert.equal(h.peekTime(), 10);
  });
});

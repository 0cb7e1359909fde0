/**
 * The core's deadlines (attempt timeouts, heartbeats, liveness, leases, event coalescing, shutdown grace) in one
 * binary min-heap. Each entry knows its index, so cancelling or moving a deadline is O(log n) and no stale entries
 * pile up (an EXTEND-happy worker cannot grow the heap). Ties fire in insertion order, which keeps replays exact.
 */
export interface Timer<T> {
  readonly at: number;
  readonly data: T;
  /** Position in the heap; -1 once popped or removed. */
  index: number;
  readonly seq: number;
}

export class TimerHeap<T> {
  private readonly heap: Timer<T>[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.heap.length;
  }

  add(at: number, data: T): Timer<T> {
    const timer: Timer<T> = { at, data, index: this.heap.length, seq: this.nextSeq++ };
    this.heap.push(timer);
    this.up(timer.index);
    return timer;
  }

  /** Removes a pending timer; a timer that already fired or was removed is ignored. */
  remove(timer: Timer<unknown> | undefined): void {
    if (timer === undefined || timer.index < 0) return;
    const i = timer.index;
    const last = this.heap.pop();
    timer.index = -1;
    if (last === undefined || last === timer) return;
    this.heap[i] = last;
    last.index = i;
    this.down(i);
    this.up(last.index);
  }

  peekTime(): number | undefined {
    return this.heap[0]?.at;
  }

  /** Pops the earliest timer if it is due at `now`. */
  popDue(now: number): Timer<T> | undefined {
    const top = this.heap[0];
    if (top === undefined || top.at > now) return undefined;
    this.remove(top);
    return top;
  }

  private less(a: Timer<T>, b: Timer<T>): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private swap(i: number, j: number): void {
    const a = this.heap[i] as Timer<T>;
    const b = this.heap[j] as Timer<T>;
    this.heap[i] = b;
    this.heap[j] = a;
    a.index = j;
    b.index = i;
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(this.heap[i] as Timer<T>, this.heap[parent] as Timer<T>)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < this.heap.length && this.less(this.heap[l] as Timer<T>, this.heap[min] as Timer<T>)) min = l;
      if (r < this.heap.length && this.less(this.heap[r] as Timer<T>, this.heap[min] as Timer<T>)) min = r;
      if (min === i) return;
      this.swap(i, min);
      i = min;
    }
  }
}

/**
 * The bounded history of finished tasks (protocol/spec.md §Admin, `--history`): a ring that hands back the entry it
 * pushes out so the task table can forget it.
 */
export class HistoryRing<T> {
  private readonly items: (T | undefined)[];
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(Math.max(0, capacity));
  }

  get length(): number {
    return this.count;
  }

  /** Adds `item`; returns the oldest item it evicted, if the ring was full. With capacity 0 the item itself is evicted. */
  push(item: T): T | undefined {
    if (this.capacity <= 0) return item;
    const evicted = this.count === this.capacity ? this.items[this.next] : undefined;
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
    return evicted;
  }
}

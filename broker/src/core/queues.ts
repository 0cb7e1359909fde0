/**
 * The two queue shapes the scheduler needs (protocol/spec.md §Scheduling rules 1–2), both O(1) per operation:
 * a ring-buffer deque for tasks (FIFO with push-front for retries) and an insertion-ordered set for the
 * least-recently-used order of workers with free capacity.
 */

/** A growable ring buffer: push/pop at both ends in O(1) amortised (never `Array.shift`). */
export class Deque<T> {
  private items: (T | undefined)[] = new Array<T | undefined>(16);
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  pushBack(item: T): void {
    this.growIfFull();
    this.items[(this.head + this.count) & (this.items.length - 1)] = item;
    this.count++;
  }

  pushFront(item: T): void {
    this.growIfFull();
    this.head = (this.head - 1) & (this.items.length - 1);
    this.items[this.head] = item;
    this.count++;
  }

  peekFront(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head];
  }

  popFront(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.count--;
    return item;
  }

  /** Keeps only the items `keep` accepts, in order (O(n); callers use it to drop stale entries in bulk). */
  retain(keep: (item: T) => boolean): void {
    const kept: T[] = [];
    for (let i = 0; i < this.count; i++) {
      const item = this.items[(this.head + i) & (this.items.length - 1)] as T;
      if (keep(item)) kept.push(item);
    }
    let size = 16;
    while (size < kept.length * 2) size *= 2;
    this.items = new Array<T | undefined>(size);
    for (let i = 0; i < kept.length; i++) this.items[i] = kept[i];
    this.head = 0;
    this.count = kept.length;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.count; i++) yield this.items[(this.head + i) & (this.items.length - 1)] as T;
  }

  private growIfFull(): void {
    if (this.count < this.items.length) return;
    const bigger = new Array<T | undefined>(this.items.length * 2);
    for (let i = 0; i < this.count; i++) bigger[i] = this.items[(this.head + i) & (this.items.length - 1)];
    this.items = bigger;
    this.head = 0;
  }
}

/**
 * Keys in least-recently-used order: `first()` is the key that was appended longest ago. A JS Map keeps insertion
 * order and deletes in O(1), which is all an LRU of idle workers needs.
 */
export class LruSet<K> {
  private readonly keys = new Map<K, true>();

  get size(): number {
    return this.keys.size;
  }

  has(key: K): boolean {
    return this.keys.has(key);
  }

  /** Appends `key` as the most recently used (moving it there if present). */
  touch(key: K): void {
    this.keys.delete(key);
    this.keys.set(key, true);
  }

  /** Appends `key` only if absent (a worker that already waits keeps its place). */
  add(key: K): void {
    if (!this.keys.has(key)) this.keys.set(key, true);
  }

  delete(key: K): void {
    this.keys.delete(key);
  }

  /** The least recently used key. */
  first(): K | undefined {
    return this.keys.keys().next().value;
  }

  /** The key after the first (for "prefer another worker"); separate so the common case builds no pair. */
  second(): K | undefined {
    const it = this.keys.keys();
    it.next();
    return it.next().value;
  }
}

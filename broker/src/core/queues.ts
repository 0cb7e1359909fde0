/**
 * The two queue shapes the scheduler needs (protocol/spec.md §Scheduling rules 1–2), both O(1) per operation:
 * a ring-buffer deque for tasks (FIFO with push-front for retries) and an insertion-ordered set for the
 * least-recently-used order of workers with free capacity.
 */

/** Capacity of a new or emptied deque; a power of two, as every capacity is (indices wrap with a mask). */
const MIN_CAPACITY = 16;
/** Below this capacity a deque never shrinks, so small queues that fill and empty all the time do not reallocate. */
const SHRINK_ABOVE = 1024;

/**
 * A growable ring buffer: push/pop at both ends in O(1) amortised (never `Array.shift`). It doubles when full and
 * halves once three quarters are free (above SHRINK_ABOVE), so memory follows the live length after a burst: the
 * broker's per-service task queues and every socket's send queue (server and peer libraries) are this one type.
 */
export class Deque<T> {
  private items: (T | undefined)[] = new Array<T | undefined>(MIN_CAPACITY);
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
    if (this.items.length > SHRINK_ABOVE && this.count * 4 <= this.items.length) this.resize(this.items.length / 2);
    return item;
  }

  /** Drops every item (and the memory a burst left behind). */
  clear(): void {
    this.items = new Array<T | undefined>(MIN_CAPACITY);
    this.head = 0;
    this.count = 0;
  }

  /** Keeps only the items `keep` accepts, in order (O(n); callers use it to drop stale entries in bulk). */
  retain(keep: (item: T) => boolean): void {
    const kept: T[] = [];
    for (let i = 0; i < this.count; i++) {
      const item = this.items[(this.head + i) & (this.items.length - 1)] as T;
      if (keep(item)) kept.push(item);
    }
    let size = MIN_CAPACITY;
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
    if (this.count === this.items.length) this.resize(this.items.length * 2);
  }

  /** Moves the items, in order, to the start of a new array of `capacity` (a power of two, >= count). */
  private resize(capacity: number): void {
    const moved = new Array<T | undefined>(capacity);
    for (let i = 0; i < this.count; i++) moved[i] = this.items[(this.head + i) & (this.items.length - 1)];
    this.items = moved;
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

  /** Every key, least recently used first. */
  values(): IterableIterator<K> {
    return this.keys.keys();
  }
}

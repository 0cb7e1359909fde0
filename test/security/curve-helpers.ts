/** Shared helpers of the CURVE tests: event capture and a failure cap so a broken test fails fast, not at 20 s. */
import type { EventOfType, EventType, Socket } from "zeromq";

/** The first event of `type` on `socket`'s observer. */
export function nextEvent<E extends EventType>(socket: Socket, type: E): Promise<EventOfType<E>> {
  return new Promise((resolve) => {
    const listener = (event: EventOfType<E>) => {
      socket.events.off(type, listener);
      resolve(event);
    };
    socket.events.on(type, listener);
  });
}

/** Rejects when `promise` has not settled within `ms` (a cap on a test, not a timing assertion). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, cap]).finally(() => clearTimeout(timer));
}

export const text = (frames: readonly Uint8Array[]): string[] => frames.map((f) => Buffer.from(f).toString());

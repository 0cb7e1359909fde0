/**
 * The crash of `ztb demo --crash`: the durable broker is SIGKILLed mid-run and started again with the same arguments
 * (same --data directory, same ports), and the walk-through says so in its own coloured lines.
 *
 * What lets the clients lose nothing (protocol/spec.md §Durability): each client socket has a routing id, so the
 * restarted broker sends the replies of the tasks it recovered once the client has reconnected, with no resend; and
 * each request has an idempotency key, because a request still travelling at the kill (in a socket buffer, or read
 * but not yet committed) never reached the journal — after its deadline the client sends it again with the same key,
 * which the broker attaches to the task it holds for that key if it does hold one, so the work still runs once.
 */
import { snapshotCounters } from "../client/admin-counters";
import type { Child } from "./demo-command";
import { paint } from "./show";

/** The broker is killed once this share of the replies has arrived. */
export const CRASH_AFTER = 0.4;

/** The extra `ztb client` options of a crash run. */
export function crashClientArgs(tries: number, timeoutSeconds: number): string[] {
  // Longer than a task's worst case (every attempt timing out) plus a restart: only a request the broker never got
  // reaches it, and is resent.
  const deadlineMs = Math.ceil(tries * timeoutSeconds * 1000) + 3000;
  const run = `demo-${process.pid}-${Date.now().toString(36)}-`;
  return ["--routing-id-prefix", run, "--key-prefix", run, "--resend", "2", "--deadline", `${deadlineMs}ms`];
}

export interface CrashContext {
  broker: Child;
  brokerArgs: string[];
  admin: string;
  answered: number;
  total: number;
  colour: boolean;
  say: (text: string) => void;
  restart: (args: string[]) => Child;
  waitForLine: (child: Child, pattern: RegExp, timeoutMs: number) => Promise<void>;
}

export interface CrashReport {
  /** The broker running now (the restarted one, or the killed one when the restart failed). */
  broker: Child;
  restarted: boolean;
  /** One line for the summary. */
  text: string;
}

export async function killAndRestart(ctx: CrashContext): Promise<CrashReport> {
  const { colour, say } = ctx;
  const before = await snapshotCounters(ctx.admin, 1000);
  const held = before === undefined ? "tasks in hand (no SNAPSHOT in time)" : `${before.queued} tasks queued and ${before.running} running`;
  const killedAt = Date.now();
  ctx.broker.process.kill("SIGKILL");
  // Said before the workers' "connection lost" lines that follow from it.
  say(paint(colour, "red", `broker killed (SIGKILL) with ${held}, ${ctx.answered} of ${ctx.total} requests answered so far`));
  await ctx.broker.exited;

  const broker = ctx.restart(ctx.brokerArgs);
  let recovered = { queued: "?", finished: "?" };
  broker.watchers.add((line) => {
    const match = /\brecovered\b.*\bqueued=(\d+)\b.*\bfinished=(\d+)/.exec(line);
    if (match !== null) recovered = { queued: match[1] ?? "?", finished: match[2] ?? "?" };
  });
  try {
    await ctx.waitForLine(broker, /listening|clients tcp/, 10_000);
  } catch (error) {
    say(paint(colour, "red", `broker did not restart: ${error instanceof Error ? error.message : String(error)}`));
    return { broker, restarted: false, text: `killed with SIGKILL (${held}); the restart FAILED` };
  }
  const ms = Date.now() - killedAt;
  say(
    paint(
      colour,
      "green",
      `broker restarted on the same data directory and ports ${ms} ms after the kill: recovered ${recovered.queued} unfinished tasks ` +
        `(those that were running count the attempt) and ${recovered.finished} finished ones; replies go out as the clients reconnect`,
    ),
  );
  return { broker, restarted: true, text: `killed with SIGKILL (${held}), restarted in ${ms} ms, recovered ${recovered.queued} unfinished tasks` };
}


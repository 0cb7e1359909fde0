/**
 * A pipelining plain-mode client (the prototype's wire format over a DEALER): keeps `window` requests in flight and
 * measures completed round trips per second and their latency after a warm-up.
 */
import * as zmq from "zeromq";
import { LatencyRecorder, type LatencySummary } from "./stats";

const DELIMITER = Buffer.alloc(0);

export interface PipelineResult {
  rate: number;
  latency: LatencySummary;
  failures: number;
  /** Every reply of the run, warm-up included (for CPU per task). */
  replies: number;
}

export async function runPipeline(endpoint: string, window: number, payloadBytes: number, seconds: number, warmupMs = 500): Promise<PipelineResult> {
  const dealer = new zmq.Dealer({ sendHighWaterMark: 0, receiveHighWaterMark: 0 });
  dealer.connect(endpoint);
  const payload = Buffer.alloc(payloadBytes, 0x62);
  const sentAt = new Float64Array(window);
  const recorder = new LatencyRecorder();
  const slotFrames = Array.from({ length: window }, (_, i) => Buffer.from([i & 0xff, i >> 8]));
  for (let i = 0; i < window; i++) {
    sentAt[i] = performance.now();
    await dealer.send([DELIMITER, slotFrames[i] ?? DELIMITER, payload]);
  }
  const warmupUntil = performance.now() + warmupMs;
  const stopAt = warmupUntil + seconds * 1000;
  let startedAt = 0;
  let measured = 0;
  let failures = 0;
  let replies = 0;
  // A reply that never comes must end the benchmark with an error, not hang it.
  dealer.receiveTimeout = 15_000;
  for (;;) {
    const frames = await dealer.receive().catch((error: unknown) => {
      throw new Error(`no reply for 15 s from ${endpoint}`, { cause: error });
    });
    const now = performance.now();
    replies++;
    const slotFrame = frames[1];
    if (slotFrame === undefined || slotFrame.length !== 2) {
      failures++; // a failure reply is one empty frame: it carries no slot, so the window shrinks by one
      if (failures >= window) break;
      continue;
    }
    const slot = (slotFrame[0] ?? 0) | ((slotFrame[1] ?? 0) << 8);
    if (now >= warmupUntil) {
      if (startedAt === 0) startedAt = now;
      measured++;
      recorder.add(now - (sentAt[slot] ?? now));
    }
    if (now >= stopAt) break;
    sentAt[slot] = now;
    await dealer.send([DELIMITER, slotFrame, payload]);
  }
  const elapsed = (performance.now() - startedAt) / 1000;
  dealer.linger = 0;
  dealer.close();
  return { rate: startedAt === 0 ? 0 : measured / elapsed, latency: recorder.summary(), failures, replies };
}

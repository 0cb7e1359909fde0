/**
 * The ceiling of zeromq.js itself on this machine: a pipelining DEALER client against a ROUTER echo server in another
 * process over tcp loopback. A broker makes two such round trips per task (client↔broker, broker↔worker), so a broker
 * reaching 0.5 of this figure would be at the physical limit.
 */
import { fork } from "node:child_process";
import * as path from "node:path";
import * as zmq from "zeromq";
import { LatencyRecorder, type LatencySummary } from "./stats";

export interface CeilingResult {
  rate: number;
  latency: LatencySummary;
}

export async function measureEchoCeiling(window: number, payloadBytes: number, seconds: number): Promise<CeilingResult> {
  const child = fork(path.join(__dirname, "echo-server.js"), [], { stdio: ["ignore", "pipe", "inherit", "ipc"] });
  try {
    const endpoint = await firstLine(child.stdout);
    const dealer = new zmq.Dealer({ sendHighWaterMark: 0, receiveHighWaterMark: 0 });
    dealer.connect(endpoint);
    const payload = Buffer.alloc(payloadBytes, 0x61);
    const sentAt = new Float64Array(window);
    const recorder = new LatencyRecorder();
    let done = 0;
    const warmupUntil = performance.now() + 300;
    let measuring = false;
    let startedAt = 0;
    let measured = 0;
    for (let i = 0; i < window; i++) {
      sentAt[i] = performance.now();
      await dealer.send([Buffer.from([i & 0xff, i >> 8]), payload]);
    }
    const stopAt = warmupUntil + seconds * 1000;
    for (;;) {
      const [slotFrame] = await dealer.receive();
      const now = performance.now();
      const slot = (slotFrame?.[0] ?? 0) | ((slotFrame?.[1] ?? 0) << 8);
      done++;
      if (!measuring && now >= warmupUntil) {
        measuring = true;
        startedAt = now;
      }
      if (measuring) {
        measured++;
        recorder.add(now - (sentAt[slot] ?? now));
      }
      if (now >= stopAt) break;
      sentAt[slot] = now;
      await dealer.send([slotFrame ?? Buffer.alloc(2), payload]);
    }
    const elapsed = (performance.now() - startedAt) / 1000;
    dealer.close();
    void done;
    return { rate: measured / elapsed, latency: recorder.summary() };
  } finally {
    child.disconnect();
    child.kill();
  }
}

export function firstLine(stream: NodeJS.ReadableStream | null): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!stream) return reject(new Error("child has no stdout"));
    let buffered = "";
    const onData = (chunk: Buffer | string): void => {
      buffered += chunk.toString();
      const newline = buffered.indexOf("\n");
      if (newline >= 0) {
        stream.removeListener("data", onData);
        resolve(buffered.slice(0, newline).trim());
      }
    };
    stream.on("data", onData);
    stream.once("end", () => reject(new Error("child exited before printing its endpoint")));
  });
}

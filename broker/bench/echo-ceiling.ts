/**
 * The ceiling of zeromq.js itself on this machine: a pipelining DEALER client against a ROUTER echo server in another
 * process over tcp loopback. A broker makes two such round trips per task (client↔broker, broker↔worker), so a broker
 * reaching 0.5 of this figure would be at the physical limit. The server's CPU per round trip is the matching
 * baseline for the broker's CPU per task.
 */
import { type ChildProcess, fork } from "node:child_process";
import * as path from "node:path";
import * as zmq from "zeromq";
import { firstLine } from "./first-line";
import { runNativePipeline } from "./native-peers";
import { cpuSeconds } from "./processes";
import { LatencyRecorder, type LatencySummary } from "./stats";

export interface CeilingResult {
  rate: number;
  latency: LatencySummary;
  /** CPU the echo server used per round trip, in µs. */
  serverCpuMicros: number;
}

async function withEchoServer(measure: (endpoint: string) => Promise<{ rate: number; latency: LatencySummary; replies: number }>): Promise<CeilingResult> {
  const child: ChildProcess = fork(path.join(__dirname, "echo-server.js"), [], { stdio: ["ignore", "pipe", "inherit", "ipc"] });
  try {
    const endpoint = await firstLine(child.stdout);
    const before = cpuSeconds(child.pid);
    const result = await measure(endpoint);
    const serverCpuMicros = ((cpuSeconds(child.pid) - before) / Math.max(1, result.replies)) * 1e6;
    return { rate: result.rate, latency: result.latency, serverCpuMicros };
  } finally {
    child.disconnect();
    child.kill();
  }
}

/**
 * The ceiling with a zeromq.js client (the same client as the broker cases). `frames` > 2 pads each message with
 * empty frames: how much a message's frame count alone costs (a TASK through the broker has 8, a RESULT 7).
 */
export function measureEchoCeiling(window: number, payloadBytes: number, seconds: number, frames = 2): Promise<CeilingResult> {
  return withEchoServer((endpoint) => pipelineEcho(endpoint, window, payloadBytes, seconds, frames));
}

/** The ceiling with the native client (native/peers.c): what the zeromq.js server does when its peer costs little. */
export function measureNativeEchoCeiling(binary: string, window: number, payloadBytes: number, seconds: number): Promise<CeilingResult> {
  return withEchoServer((endpoint) => runNativePipeline(binary, endpoint, window, payloadBytes, seconds, false));
}

async function pipelineEcho(
  endpoint: string,
  window: number,
  payloadBytes: number,
  seconds: number,
  frames: number,
): Promise<{ rate: number; latency: LatencySummary; replies: number }> {
  const padding = Array.from({ length: Math.max(0, frames - 2) }, () => Buffer.alloc(0));
  const dealer = new zmq.Dealer({ sendHighWaterMark: 0, receiveHighWaterMark: 0 });
  dealer.connect(endpoint);
  const payload = Buffer.alloc(payloadBytes, 0x61);
  const sentAt = new Float64Array(window);
  const recorder = new LatencyRecorder();
  let replies = 0;
  const warmupUntil = performance.now() + 300;
  let measuring = false;
  let startedAt = 0;
  let measured = 0;
  for (let i = 0; i < window; i++) {
    sentAt[i] = performance.now();
    await dealer.send([Buffer.from([i & 0xff, i >> 8]), ...padding, payload]);
  }
  const stopAt = warmupUntil + seconds * 1000;
  for (;;) {
    const [slotFrame] = await dealer.receive();
    const now = performance.now();
    const slot = (slotFrame?.[0] ?? 0) | ((slotFrame?.[1] ?? 0) << 8);
    replies++;
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
    await dealer.send([slotFrame ?? Buffer.alloc(2), ...padding, payload]);
  }
  const elapsed = (performance.now() - startedAt) / 1000;
  dealer.close();
  return { rate: measured / elapsed, latency: recorder.summary(), replies };
}

/** The extension's monitor child (extension/src/bridge/monitor-child.ts), forked as the extension forks it, for tests. */
import { fork, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import type { FromChild, ToChild } from "../../extension/src/bridge/ipc";
import { within } from "../security/curve-helpers";

const CHILD = path.join(__dirname, "..", "..", "extension", "src", "bridge", "monitor-child.js");
/** How long a test waits for one message of the child. */
export const CAP = 4000;

/** A forked monitor child and every message it sent so far. */
export class ChildUnderTest {
  readonly process: ChildProcess;
  readonly messages: FromChild[] = [];
  private waiters: (() => void)[] = [];
  readonly exited: Promise<void>;

  constructor() {
    this.process = fork(CHILD, [], { execArgv: [], stdio: ["ignore", "ignore", "inherit", "ipc"] });
    this.process.on("message", (message: FromChild) => {
      this.messages.push(message);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.exited = new Promise((resolve) => this.process.once("exit", () => resolve()));
  }

  send(message: ToChild): void {
    this.process.send(message);
  }

  /** The first message (already received or to come) that `match` accepts. */
  next<T extends FromChild>(what: string, match: (m: FromChild) => m is T): Promise<T> {
    const found = new Promise<T>((resolve) => {
      const check = (): void => {
        const hit = this.messages.find(match);
        if (hit !== undefined) resolve(hit);
        else this.waiters.push(check);
      };
      check();
    });
    return within(found, CAP, what);
  }

  async kill(): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill();
    await this.exited;
  }
}

export const isSnapshot = (m: FromChild): m is Extract<FromChild, { type: "snapshot" }> => m.type === "snapshot";
export const isCurveError = (m: FromChild): m is Extract<FromChild, { type: "curve-error" }> => m.type === "curve-error";
export const isReply = (m: FromChild): m is Extract<FromChild, { type: "reply" }> => m.type === "reply";

/**
 * A broker started elsewhere with --max-memory, attached from a real VS Code (issue 14): the Broker view shows its
 * memory against the budget and its connections, and keeps the connections current although no EVENT carries them.
 * Runs last (files run in name order) and starts its own broker.
 */
import * as assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import * as vscode from "vscode";
import type { ViewNode, ZtbExtensionApi } from "../../../extension/src/api";
import { COMMANDS, EXTENSION_ID, testWorkersArgs } from "./ids";
import { freePort } from "./free-port";
import { waitFor } from "./wait";

describe("ztb extension: a broker with a memory budget", function () {
  let api: ZtbExtensionApi;
  let outside: ChildProcess | undefined;
  const row = (id: string): ViewNode | undefined => api.viewNodes("ztb.broker").find((n) => n.id === id);

  before(async function () {
    const extension = vscode.extensions.getExtension<ZtbExtensionApi>(EXTENSION_ID);
    assert.ok(extension);
    api = await extension.activate();
  });

  after(async function () {
    await Promise.allSettled([vscode.commands.executeCommand(COMMANDS.stopTestWorkers), vscode.commands.executeCommand(COMMANDS.detachBroker)]);
    outside?.kill();
  });

  it("shows the memory against --max-memory, and connections that follow workers connecting", async function () {
    const extension = vscode.extensions.getExtension<ZtbExtensionApi>(EXTENSION_ID);
    assert.ok(extension);
    await vscode.commands.executeCommand(COMMANDS.stopBroker);
    const [clients, workers, answers, admin] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const endpoint = (port: number): string => `tcp://127.0.0.1:${port}`;
    const cli = path.join(extension.extensionPath, "out", "broker", "src", "cli", "main.js");
    const args = ["broker", "--max-memory", "1G", "--admin", endpoint(admin), endpoint(clients), endpoint(workers), endpoint(answers)];
    outside = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ELECTRON_RUN_AS_NODE: "1" }, stdio: "ignore" });
    assert.equal(await vscode.commands.executeCommand<boolean>(COMMANDS.attachBroker, endpoint(admin)), true);

    const memory = row("broker:memory");
    assert.match(memory?.description ?? "", /^\d+ of 1024 MiB \(\d+ %\)$/, "not shedding: no warning in the row");
    assert.match(memory?.tooltip ?? "", /--max-memory/);
    assert.match(row("broker:connections")?.description ?? "", /^clients 0 · workers 0 · answers 0 · admin \d+/, "a fresh attach: nothing connected but the monitor");

    // Workers connecting change SNAPSHOT broker.connections but no EVENT says so: the row follows by reading it again.
    await vscode.commands.executeCommand(COMMANDS.startTestWorkers, ...testWorkersArgs(2, 0));
    await waitFor(api, "2 workers on the outside broker", () => api.workers().length === 2);
    await waitFor(api, "2 workers in the Connections row", () => /\bworkers 2\b/.test(row("broker:connections")?.description ?? ""), 10_000);
  });
});

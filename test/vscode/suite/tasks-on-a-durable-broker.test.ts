/**
 * A durable broker started from VS Code (`ztb.broker.dataDirectory` → `ztb broker --data`), and deleting failed tasks
 * (admin DELETE, ZTB/1.1), in a real VS Code through the `vscode` API. Runs after operations.test.ts (name order).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as vscode from "vscode";
import type { ZtbExtensionApi } from "../../../extension/src/api";
import { COMMANDS, EXTENSION_ID, testWorkersArgs } from "./ids";
import { waitFor } from "./wait";

describe("ztb extension: a durable broker, and deleting failed tasks", function () {
  let api: ZtbExtensionApi;
  let dataDirectory: string;
  const settings = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration("ztb");
  const failed = (): string[] => api.tasks().filter((t) => t.state === "failed").map((t) => t.id);

  before(async function () {
    const extension = vscode.extensions.getExtension<ZtbExtensionApi>(EXTENSION_ID);
    assert.ok(extension);
    api = await extension.activate();
    dataDirectory = fs.mkdtempSync(path.join(os.tmpdir(), "ztb-data-"));
  });

  after(async function () {
    await Promise.allSettled([
      vscode.commands.executeCommand(COMMANDS.stopTestWorkers),
      vscode.commands.executeCommand(COMMANDS.stopBroker),
    ]);
    await settings().update("broker.dataDirectory", undefined, vscode.ConfigurationTarget.Workspace);
    fs.rmSync(dataDirectory, { recursive: true, force: true });
  });

  it("Start Broker with ztb.broker.dataDirectory runs a durable broker, and the Broker view says so", async function () {
    await settings().update("broker.dataDirectory", dataDirectory, vscode.ConfigurationTarget.Workspace);
    await vscode.commands.executeCommand(COMMANDS.startBroker);
    await waitFor(api, 'state "running"', () => api.state() === "running");
    assert.equal(api.broker()?.durable, true);
    assert.ok(api.broker()?.fsync, "a durable broker reports its fsync policy");
    assert.match(api.viewNodes("ztb.broker")[0]?.description ?? "", /· durable$/);
    assert.ok(fs.readdirSync(dataDirectory).length > 0, "the journal is in the data directory");
  });

  it("Delete Task removes one failed task, Delete All Failed Tasks the others", async function () {
    await vscode.commands.executeCommand(COMMANDS.startTestWorkers, ...testWorkersArgs(1, 100));
    await waitFor(api, "1 worker", () => api.workers().length === 1);
    for (const n of [1, 2, 3]) {
      const block = await vscode.workspace.openTextDocument({
        language: "ztb-request",
        content: `### doomed ${n}\n@timeout 0.2\n@attempts 1\ntext:doomed-${n}\n`,
      });
      await vscode.commands.executeCommand(COMMANDS.sendRequest, block.uri, 0);
      assert.equal(api.lastReply()?.status, "failed");
    }
    await waitFor(api, "3 failed tasks", () => failed().length === 3);

    const [first] = failed();
    assert.ok(first);
    assert.equal(await vscode.commands.executeCommand<boolean>(COMMANDS.deleteTask, first), true);
    await waitFor(api, `${first} gone`, () => !failed().includes(first));
    assert.equal(failed().length, 2);

    const deleted = await vscode.commands.executeCommand<number | undefined>(COMMANDS.deleteFailedTasks, "default", true);
    assert.equal(deleted, 2);
    await waitFor(api, "no failed task left", () => failed().length === 0);
  });
});

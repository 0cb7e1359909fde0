/**
 * What a person does after the first request (issue 13), in a real VS Code through the `vscode` API: the Tasks view
 * before any task, Show Request → edit → Send again, Drain then Resume a worker, diagnostics that name their source,
 * Attach refusing an endpoint that cannot work, and Detach taking the extension's test workers along. Runs after
 * extension.test.ts (files run in name order) and starts its own brokers.
 */
import * as assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import * as vscode from "vscode";
import type { ZtbExtensionApi } from "../../../extension/src/api";
import { COMMANDS, EXTENSION_ID, testWorkersArgs } from "./ids";
import { freePort } from "./free-port";
import { waitFor } from "./wait";

function frameTexts(api: ZtbExtensionApi): string[] {
  return (api.lastReply()?.frames ?? []).map((f) => ("text" in f ? f.text : `hex:${f.hex}`));
}

describe("ztb extension: tasks, workers and connections", function () {
  let api: ZtbExtensionApi;
  let outside: ChildProcess | undefined;

  before(async function () {
    const extension = vscode.extensions.getExtension<ZtbExtensionApi>(EXTENSION_ID);
    assert.ok(extension);
    api = await extension.activate();
  });

  after(async function () {
    await Promise.allSettled([
      vscode.commands.executeCommand(COMMANDS.stopTestWorkers),
      vscode.commands.executeCommand(COMMANDS.detachBroker),
      vscode.commands.executeCommand(COMMANDS.stopBroker),
    ]);
    outside?.kill();
  });

  it("shows no task groups before the broker's first task (the view's welcome text shows instead)", async function () {
    await vscode.commands.executeCommand(COMMANDS.startBroker);
    await waitFor(api, 'state "running"', () => api.state() === "running");
    assert.deepEqual(api.viewNodes("ztb.tasks"), []);
  });

  it("Show Request opens an untitled request file that can be edited and sent again", async function () {
    await vscode.commands.executeCommand(COMMANDS.startTestWorkers, ...testWorkersArgs(1, 0));
    await waitFor(api, "1 worker", () => api.workers().length === 1);
    const first = await vscode.workspace.openTextDocument({ language: "ztb-request", content: "### first\ntext:hello\n" });
    await vscode.commands.executeCommand(COMMANDS.sendRequest, first.uri, 0);
    await waitFor(api, "the first reply", () => api.lastReply()?.status === "succeeded");
    const task = api.lastReply()?.task;
    assert.ok(task, "the reply names its task");
    await waitFor(api, "the task in the Tasks view", () => api.viewNodes("ztb.tasks").length > 0);

    const uri = await vscode.commands.executeCommand<string | undefined>(COMMANDS.showRequest, task);
    assert.ok(uri, "Show Request returns the document it opened");
    const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
    assert.ok(document, "the document is open");
    assert.equal(document.isUntitled, true, `${uri} is an untitled document`);
    assert.equal(document.languageId, "ztb-request");
    const line = document.getText().split("\n").findIndex((l) => l === "hello");
    assert.ok(line >= 0, `the request's frame is in the document:\n${document.getText()}`);

    const edit = new vscode.WorkspaceEdit();
    edit.replace(document.uri, document.lineAt(line).range, "edited");
    assert.equal(await vscode.workspace.applyEdit(edit), true, "the document accepts edits");
    await vscode.commands.executeCommand(COMMANDS.sendRequest, document.uri, line);
    await waitFor(api, "the reply to the edited request", () => frameTexts(api).includes("edited"));
    assert.equal(api.lastReply()?.status, "succeeded");
  });

  it("Resume Worker gives a drained worker tasks again", async function () {
    const worker = api.workers()[0];
    assert.ok(worker);
    await vscode.commands.executeCommand(COMMANDS.drainWorker, worker.id);
    await waitFor(api, "the worker draining", () => api.workers()[0]?.state === "draining");
    const resumed = await vscode.commands.executeCommand<boolean>(COMMANDS.resumeWorker, worker.id);
    assert.equal(resumed, true);
    await waitFor(api, "the worker idle again", () => api.workers()[0]?.state === "idle");
    const block = await vscode.workspace.openTextDocument({ language: "ztb-request", content: "### after resume\ntext:resumed\n" });
    await vscode.commands.executeCommand(COMMANDS.sendRequest, block.uri, 0);
    await waitFor(api, "a reply from the resumed worker", () => frameTexts(api).includes("resumed"));
    assert.equal(api.lastReply()?.worker, worker.name);
  });

  it("reports request-file errors with the extension as their source", async function () {
    const document = await vscode.workspace.openTextDocument({ language: "ztb-request", content: "### broken\n@bogus 1\nframe\n" });
    await waitFor(api, "diagnostics", () => vscode.languages.getDiagnostics(document.uri).length > 0);
    for (const d of vscode.languages.getDiagnostics(document.uri)) assert.equal(d.source, "ztb", d.message);
  });

  it("Attach refuses an endpoint whose port is not a number, at once", async function () {
    await vscode.commands.executeCommand(COMMANDS.stopTestWorkers);
    await vscode.commands.executeCommand(COMMANDS.stopBroker);
    await waitFor(api, 'state "stopped"', () => api.state() === "stopped");
    const attached = await vscode.commands.executeCommand<boolean>(COMMANDS.attachBroker, "tcp://127.0.0.1:nope");
    assert.equal(attached, false);
    assert.equal(api.state(), "stopped");
  });

  it("Detach from a broker started elsewhere stops the extension's test workers", async function () {
    const extension = vscode.extensions.getExtension<ZtbExtensionApi>(EXTENSION_ID);
    assert.ok(extension);
    const [clients, workers, answers, admin] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const endpoint = (port: number): string => `tcp://127.0.0.1:${port}`;
    const cli = path.join(extension.extensionPath, "out", "broker", "src", "cli", "main.js");
    outside = spawn(process.execPath, [cli, "broker", "--admin", endpoint(admin), endpoint(clients), endpoint(workers), endpoint(answers)], {
      env: { ...process.env, ELECTRON_RUN_AS_NODE: "1" },
      stdio: "ignore",
    });
    assert.equal(await vscode.commands.executeCommand<boolean>(COMMANDS.attachBroker, endpoint(admin)), true);
    assert.equal(api.state(), "attached");
    await vscode.commands.executeCommand(COMMANDS.startTestWorkers, ...testWorkersArgs(2, 0));
    await waitFor(api, "2 workers on the outside broker", () => api.workers().length === 2);

    await vscode.commands.executeCommand(COMMANDS.detachBroker);
    assert.equal(api.state(), "stopped");
    assert.equal(api.testWorkers(), 0, "no test worker left running against the outside broker");
  });
});

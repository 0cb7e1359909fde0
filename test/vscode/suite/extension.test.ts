/**
 * The user journey of issue 3 in a real VS Code, through the `vscode` API: activate, Start Broker, Start Test
 * Workers, Send Request from a `.ztb` file via its CodeLens, see the task succeed, Stop Broker. The steps share one
 * broker, so they run in order and each waits for the extension's API (`onDidChange`) rather than for a fixed time.
 *
 * The workspace (made by the runner) holds `sample.ztb` and `.vscode/settings.json` with free loopback ports.
 */
import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import type { ZtbExtensionApi } from "../../../extension/src/api";
import { COMMANDS, EXTENSION_ID, INSTALLED_IN_ENV, SAMPLE_REQUEST_FILE, testWorkersArgs } from "./ids";
import { waitFor } from "./wait";

function sampleUri(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, "the runner opens a workspace folder");
  return vscode.Uri.joinPath(folder.uri, SAMPLE_REQUEST_FILE);
}

describe("ztb extension in VS Code", function () {
  let api: ZtbExtensionApi;

  after(async function () {
    // Leave nothing running whatever failed: the runners reuse the machine.
    await Promise.allSettled([
      vscode.commands.executeCommand(COMMANDS.stopTestWorkers),
      vscode.commands.executeCommand(COMMANDS.stopBroker),
    ]);
  });

  it("activates and exposes its API", async function () {
    const extension = vscode.extensions.getExtension<ZtbExtensionApi>(EXTENSION_ID);
    assert.ok(extension, `extension ${EXTENSION_ID} is installed`);
    const installedIn = process.env[INSTALLED_IN_ENV];
    if (installedIn) assert.ok(extension.extensionPath.startsWith(installedIn), `${extension.extensionPath} is the installed copy`);
    api = await extension.activate();
    assert.equal(api.apiVersion, 1);
    assert.equal(api.state(), "stopped");
    const commands = await vscode.commands.getCommands(true);
    for (const id of Object.values(COMMANDS)) assert.ok(commands.includes(id), `command ${id} is registered`);
  });

  it("Start Broker runs a broker and the API reports it running", async function () {
    await vscode.commands.executeCommand(COMMANDS.startBroker);
    await waitFor(api, 'state "running"', () => api.state() === "running");
    const broker = api.broker();
    assert.ok(broker, "broker info from the admin SNAPSHOT");
    const clients = vscode.workspace.getConfiguration("ztb").get<string>("endpoints.clients");
    assert.equal(broker.endpoints.clients, clients, "the broker binds the endpoint from the settings");
    assert.ok(api.counters(), "counters from the admin SNAPSHOT");
    assert.equal(api.workers().length, 0);
  });

  it("Start Test Workers (2 workers, 0 % dropped) shows two workers", async function () {
    await vscode.commands.executeCommand(COMMANDS.startTestWorkers, ...testWorkersArgs(2, 0));
    await waitFor(api, "2 workers", () => api.workers().length === 2);
    assert.equal(api.testWorkers(), 2);
    for (const worker of api.workers()) {
      assert.equal(worker.kind, "modern");
      assert.notEqual(worker.state, "draining");
    }
    assert.equal(api.counters()?.workers, 2);
  });

  it("the Send Request CodeLens sends a block and opens the reply beside it", async function () {
    const document = await vscode.workspace.openTextDocument(sampleUri());
    await vscode.window.showTextDocument(document);
    assert.equal(document.languageId, "ztb-request");

    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>(
      "vscode.executeCodeLensProvider", document.uri, 100);
    const sendLenses = lenses.filter((lens) => lens.command?.command === COMMANDS.sendRequest);
    assert.equal(sendLenses.length, 2, "one Send Request lens per block of sample.ztb");
    const [first] = sendLenses.sort((a, b) => a.range.start.line - b.range.start.line);
    assert.ok(first?.command);

    await vscode.commands.executeCommand(first.command.command, ...(first.command.arguments ?? []));
    await waitFor(api, "a reply", () => api.lastReply() !== undefined);
    const reply = api.lastReply();
    assert.ok(reply);
    assert.equal(reply.status, "succeeded", `reply failed: ${reply.reason ?? ""} ${reply.message ?? ""}`);
    assert.ok(reply.attempts >= 1);
    assert.ok(reply.worker && api.workers().some((w) => w.name === reply.worker), "answered by a test worker");
    assert.ok(reply.text.length > 0);

    await waitFor(api, "the reply editor", () =>
      vscode.window.visibleTextEditors.some((editor) => editor.document.uri.toString() === reply.uri));
    await waitFor(api, "a succeeded task in the Tasks view", () =>
      api.tasks().some((task) => task.state === "succeeded" && (reply.task === undefined || task.id === reply.task)));
    assert.ok((api.counters()?.succeeded ?? 0) >= 1);
  });

  it("Stop Broker stops it and the views report it", async function () {
    await vscode.commands.executeCommand(COMMANDS.stopTestWorkers);
    await vscode.commands.executeCommand(COMMANDS.stopBroker);
    await waitFor(api, 'state "stopped"', () => api.state() === "stopped");
    assert.equal(api.broker(), undefined);
    assert.deepEqual(api.workers(), []);
    assert.equal(api.testWorkers(), 0);
  });
});

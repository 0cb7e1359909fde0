/**
 * Issue 13's request-file and tree features in a real VS Code, through the `vscode` API: variables from the file and
 * the chosen environment substituted in a sent request, Rerun Last, the reply editor's Copy as `ztb client send`,
 * the Tasks filter with a multi-selection Retry and Clear Finished, and the live chart drawing non-zero rates under
 * load. Starts its own broker; runs after operations.test.ts (files run in name order).
 */
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as path from "node:path";
import * as vscode from "vscode";
import type { ViewNode, ZtbExtensionApi } from "../../../extension/src/api";
import { COMMANDS, EXTENSION_ID, testWorkersArgs } from "./ids";
import { waitFor } from "./wait";

function frameTexts(api: ZtbExtensionApi): string[] {
  return (api.lastReply()?.frames ?? []).map((f) => ("text" in f ? f.text : `hex:${f.hex}`));
}

function flatten(nodes: ViewNode[]): ViewNode[] {
  return nodes.flatMap((n) => [n, ...flatten(n.children ?? [])]);
}

async function send(api: ZtbExtensionApi, content: string): Promise<void> {
  const document = await vscode.workspace.openTextDocument({ language: "ztb-request", content });
  const before = api.lastReply();
  await vscode.commands.executeCommand(COMMANDS.sendRequest, document.uri, content.split("\n").findIndex((l) => l.startsWith("###")));
  await waitFor(api, "a new reply", () => api.lastReply() !== before && api.lastReply() !== undefined);
}

describe("ztb extension: request files, history, filter and chart", function () {
  let api: ZtbExtensionApi;
  let extensionPath = "";

  before(async function () {
    const extension = vscode.extensions.getExtension<ZtbExtensionApi>(EXTENSION_ID);
    assert.ok(extension);
    extensionPath = extension.extensionPath;
    api = await extension.activate();
    await vscode.commands.executeCommand(COMMANDS.startBroker);
    await waitFor(api, 'state "running"', () => api.state() === "running");
    await vscode.commands.executeCommand(COMMANDS.startTestWorkers, ...testWorkersArgs(2, 0));
    await waitFor(api, "2 workers", () => api.workers().length === 2);
  });

  after(async function () {
    await vscode.workspace.getConfiguration("ztb").update("environments", undefined, vscode.ConfigurationTarget.Workspace);
    await Promise.allSettled([vscode.commands.executeCommand(COMMANDS.stopTestWorkers), vscode.commands.executeCommand(COMMANDS.stopBroker)]);
  });

  it("substitutes file variables and the chosen environment's in the frames and options it sends", async function () {
    await vscode.workspace.getConfiguration("ztb").update(
      "environments",
      { $shared: { who: "shared", service: "nobody-serves-this" }, staging: { who: "staging", service: "default" } },
      vscode.ConfigurationTarget.Workspace,
    );
    assert.equal(await vscode.commands.executeCommand(COMMANDS.selectEnvironment, "staging"), "staging");
    assert.equal(api.environment(), "staging");
    await send(api, "@greeting = hello\n### vars\n@service {{service}}\n{{greeting}} {{who}}\ntext:{{greeting}}\n");
    assert.equal(api.lastReply()?.status, "succeeded", "sent to the environment's service, which a test worker serves");
    assert.deepEqual(frameTexts(api), ["hello staging", "hello"]);
  });

  it("completes live services, warns on a service no worker serves, and quick-fixes a misspelt option", async function () {
    const document = await vscode.workspace.openTextDocument({ language: "ztb-request", content: "### a\n@service \nx\n### b\n@service mail\n@servce echo\ny\n" });
    const completions = await vscode.commands.executeCommand<vscode.CompletionList>(
      "vscode.executeCompletionItemProvider", document.uri, new vscode.Position(1, 9));
    assert.ok(completions.items.some((i) => i.label === "default"), "the test workers' service is offered");
    await waitFor(api, "the diagnostics", () => vscode.languages.getDiagnostics(document.uri).length >= 2);
    const diagnostics = vscode.languages.getDiagnostics(document.uri);
    const unserved = diagnostics.find((d) => d.code === "unserved-service");
    assert.equal(unserved?.severity, vscode.DiagnosticSeverity.Warning);
    assert.equal(unserved?.range.start.line, 4);
    const misspelt = diagnostics.find((d) => d.code === "unknown-option");
    assert.ok(misspelt, diagnostics.map((d) => d.message).join("; "));
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      "vscode.executeCodeActionProvider", document.uri, misspelt.range, vscode.CodeActionKind.QuickFix.value);
    const fix = actions.find((a) => a.title === "Change to @service");
    assert.ok(fix?.edit, actions.map((a) => a.title).join("; "));
    assert.equal(await vscode.workspace.applyEdit(fix.edit), true);
    assert.equal(document.lineAt(5).text, "@service echo");
    const symbols = await vscode.commands.executeCommand<vscode.DocumentSymbol[]>("vscode.executeDocumentSymbolProvider", document.uri);
    assert.deepEqual(symbols.map((sym) => sym.name), ["a", "b"]);
  });

  it("Rerun Last sends the last request again as it was sent, and the reply editor copies it as a ztb client send", async function () {
    const first = api.lastReply();
    assert.ok(first);
    const sent = api.history().length;
    await vscode.commands.executeCommand(COMMANDS.rerunLastRequest);
    await waitFor(api, "the rerun's reply", () => api.lastReply() !== first);
    assert.deepEqual(frameTexts(api), ["hello staging", "hello"]);
    assert.notEqual(api.lastReply()?.task, first.task, "a new task");
    assert.equal(api.history().length, sent, "the same request moves to the top of the history instead of adding a row");
    assert.equal(api.history()[0]?.status, "succeeded");

    const command = await vscode.commands.executeCommand<string>(COMMANDS.copyAsCliCommand, api.lastReply()?.uri);
    assert.match(command, /^ztb client send --service default tcp:\/\/127\.0\.0\.1:\d+ 'hello staging' hello$/);
    assert.equal(await vscode.env.clipboard.readText(), command);
  });

  it("filters the Tasks view, retries a multi-selection of failed tasks, and clears finished ones", async function () {
    const poison = "### poison\n@attempts 1\n@timeout 0.2\npoison\n";
    await send(api, poison);
    await send(api, poison);
    assert.equal(api.lastReply()?.status, "failed");
    await waitFor(api, "2 failed tasks", () => api.tasks().filter((t) => t.state === "failed").length === 2);

    assert.equal(await vscode.commands.executeCommand(COMMANDS.filterTasks, "state:failed poison"), "state:failed poison");
    const groups = api.viewNodes("ztb.tasks");
    assert.deepEqual(groups.map((g) => `${g.label} ${g.description ?? ""}`), ["Failed 2 of 2"]);
    const rows = groups[0]?.children ?? [];
    assert.equal(rows.length, 2);
    for (const row of rows) assert.match(row.label, /#1 poison$/, "a task sent from a file is named after its block");

    const retried = await vscode.commands.executeCommand<string | undefined>(COMMANDS.retryTask, rows[0], rows);
    assert.ok(retried, "the multi-selection was retried");
    await waitFor(api, "4 failed tasks (the retries fail too)", () => api.tasks().filter((t) => t.state === "failed").length === 4);
    await waitFor(api, "the retries in the filtered view", () => api.viewNodes("ztb.tasks")[0]?.description === "4 of 4");

    await vscode.commands.executeCommand(COMMANDS.clearTaskFilter);
    assert.ok(api.viewNodes("ztb.tasks").some((g) => g.label === "Succeeded"), "no filter: every group again");
    await vscode.commands.executeCommand(COMMANDS.clearFinishedTasks);
    const left = flatten(api.viewNodes("ztb.tasks")).filter((n) => n.taskId !== undefined);
    assert.deepEqual(left, [], "no finished task rows after Clear Finished");
    assert.ok(api.tasks().every((t) => t.state === "queued" || t.state === "running"));
  });

  it("the live chart draws non-zero rates while a load runs", async function () {
    await vscode.commands.executeCommand(COMMANDS.showChart);
    await waitFor(api, "the chart panel open and drawn", () => api.chart().open && api.chart().rendered !== undefined);
    const cli = path.join(extensionPath, "out", "broker", "src", "cli", "main.js");
    const clients = api.broker()?.endpoints.clients ?? "";
    const load = spawn(process.execPath, [cli, "client", "-n", "4", "--count", "100", "--enveloped", "--quiet", clients.replace("*", "127.0.0.1")], {
      env: { ...process.env, ELECTRON_RUN_AS_NODE: "1" },
      stdio: "ignore",
    });
    try {
      await waitFor(api, "a drawn rate above zero", () => (api.chart().rendered?.maxRate ?? 0) > 0, 40_000);
      assert.ok((api.chart().rendered?.points ?? 0) >= 60, "minutes of points, one a second");
    } finally {
      load.kill();
    }
  });
});

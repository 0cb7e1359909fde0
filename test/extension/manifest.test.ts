import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { COMMAND_IDS, CONTEXT_KEYS } from "../../extension/src/commands/command-ids";
import { allContextValues } from "../../extension/src/model/context-values";

const root = path.join(__dirname, "../../..");

interface MenuEntry {
  command: string;
  when?: string;
  group?: string;
}
interface Manifest {
  name: string;
  publisher: string;
  main: string;
  scripts: Record<string, string>;
  extensionKind: string[];
  engines: { vscode: string };
  contributes: {
    commands: { command: string; title: string; category: string }[];
    menus: Record<string, MenuEntry[]>;
    views: Record<string, { id: string }[]>;
    viewsWelcome: { view: string; contents: string; when?: string }[];
    keybindings: MenuEntry[];
    configuration: { properties: Record<string, { description?: string; markdownDescription?: string; default?: unknown }> };
    languages: { id: string; extensions: string[] }[];
    configurationDefaults?: Record<string, Record<string, unknown>>;
  };
}

interface LaunchConfig {
  type: string;
  request: string;
  args?: string[];
  outFiles?: string[];
  preLaunchTask?: string;
}

const manifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as Manifest;
const contributed = manifest.contributes.commands.map((c) => c.command);

describe("extension manifest (package.json contributes)", () => {
  it("contributes exactly the commands the extension registers", () => {
    assert.deepEqual([...contributed].sort(), [...COMMAND_IDS].sort());
    // The table that registers them: keys read from its source (it imports vscode, so it cannot load here).
    const table = readFileSync(path.join(root, "extension/src/commands/table.ts"), "utf8");
    const keys = [...table.matchAll(/^\s+"(ztb\.\w+)":\s*\w+,$/gm)].map((m) => m[1]);
    assert.deepEqual([...keys].sort(), [...COMMAND_IDS].sort());
  });

  it("puts every command in the ZeroMQ Broker category with a title", () => {
    for (const c of manifest.contributes.commands) {
      assert.equal(c.category, "ZeroMQ Broker", c.command);
      assert.ok(c.title.length > 0, c.command);
    }
  });

  it("menus, keybindings and welcome links name contributed commands only", () => {
    const known = new Set(contributed);
    for (const [menu, entries] of Object.entries(manifest.contributes.menus)) {
      for (const e of entries) assert.ok(known.has(e.command), `${menu}: ${e.command}`);
    }
    for (const k of manifest.contributes.keybindings) assert.ok(known.has(k.command), k.command);
    for (const w of manifest.contributes.viewsWelcome) {
      for (const m of w.contents.matchAll(/\(command:([\w.]+)/g)) {
        const id = m[1] ?? "";
        assert.ok(known.has(id) || id.startsWith("workbench."), `${w.view}: ${id}`);
      }
    }
  });

  it("every viewItem regex in the menus matches a contextValue the code produces", () => {
    const values = allContextValues();
    let checked = 0;
    for (const entries of Object.values(manifest.contributes.menus)) {
      for (const e of entries) {
        for (const m of (e.when ?? "").matchAll(/viewItem =~ \/(.+?)\/(?=\s|$)/g)) {
          const re = new RegExp(m[1] ?? "");
          assert.ok(values.some((v) => re.test(v)), `${e.command}: /${m[1]}/ matches none of ${values.join(", ")}`);
          checked++;
        }
      }
    }
    assert.ok(checked >= 8, `checked ${checked} viewItem clauses`);
  });

  it("when clauses use only the context keys the extension sets", () => {
    const keys = new Set<string>(Object.values(CONTEXT_KEYS));
    const views = new Set(Object.values(manifest.contributes.views).flat().map((v) => v.id));
    const clauses = [
      ...Object.values(manifest.contributes.menus).flat().map((e) => e.when ?? ""),
      ...manifest.contributes.viewsWelcome.map((w) => w.when ?? ""),
      ...manifest.contributes.keybindings.map((k) => k.when ?? ""),
    ];
    for (const clause of clauses) {
      for (const m of clause.replace(/\/[^/]*\//g, "").matchAll(/\bztb\.[\w.]+/g)) {
        assert.ok(keys.has(m[0]) || views.has(m[0]), `${m[0]} in "${clause}"`);
      }
    }
  });

  it("describes every setting and defaults the endpoints to loopback", () => {
    const props = manifest.contributes.configuration.properties;
    assert.ok(Object.keys(props).length >= 9);
    for (const [key, p] of Object.entries(props)) {
      assert.ok((p.markdownDescription ?? p.description ?? "").length > 10, `${key} has a description`);
      assert.ok(key.startsWith("ztb."), key);
    }
    for (const e of ["clients", "workers", "answers", "admin"]) {
      assert.match(String(props[`ztb.endpoints.${e}`]?.default), /^tcp:\/\/127\.0\.0\.1:416[1-4]$/);
    }
  });

  it("declares the views, the request language, a workspace extension kind and an engine code-server 4.100 accepts", () => {
    assert.deepEqual(manifest.contributes.views["ztb"]?.map((v) => v.id), ["ztb.broker", "ztb.workers", "ztb.tasks"]);
    assert.deepEqual(manifest.contributes.languages.find((l) => l.id === "ztb-request")?.extensions, [".ztb"]);
    assert.deepEqual(manifest.extensionKind, ["workspace"]);
    assert.equal(manifest.main, "./extension/dist/extension.js");
    const [major, minor] = manifest.engines.vscode.replace(/^\^/, "").split(".").map(Number);
    assert.ok(major === 1 && (minor ?? 999) <= 100);
  });

  it("never lets the editor rewrite a request file: no suggestions to accept, no auto-closing, no trimmed spaces", () => {
    const defaults = manifest.contributes.configurationDefaults?.["[ztb-request]"];
    assert.ok(defaults, "configurationDefaults has a [ztb-request] section");
    assert.equal(defaults["editor.wordBasedSuggestions"], "off");
    assert.deepEqual(defaults["editor.quickSuggestions"], { other: "off", comments: "off", strings: "off" });
    assert.equal(defaults["editor.suggestOnTriggerCharacters"], false);
    assert.equal(defaults["editor.acceptSuggestionOnEnter"], "off");
    assert.equal(defaults["editor.acceptSuggestionOnCommitCharacter"], false);
    assert.equal(defaults["editor.tabCompletion"], "off");
    assert.equal(defaults["editor.autoClosingBrackets"], "never");
    assert.equal(defaults["editor.autoClosingQuotes"], "never");
    assert.equal(defaults["editor.autoSurround"], "never");
    assert.equal(defaults["editor.formatOnType"], false);
    assert.equal(defaults["editor.trimAutoWhitespace"], false);
    assert.equal(defaults["files.trimTrailingWhitespace"], false);
  });

  it("offers Resume Worker on a draining worker where Drain Worker is offered on the others", () => {
    const items = manifest.contributes.menus["view/item/context"] ?? [];
    const resume = items.filter((e) => e.command === "ztb.resumeWorker");
    assert.ok(resume.length > 0, "Resume Worker is in the Workers view's menu");
    const values = allContextValues();
    for (const e of resume) {
      const re = new RegExp(/viewItem =~ \/(.+?)\//.exec(e.when ?? "")?.[1] ?? "^$");
      assert.deepEqual(values.filter((v) => re.test(v)), ["drainingModernWorker", "drainingLegacyWorker"]);
    }
  });

  it("writes welcome texts VS Code shows as written: links only, no other Markdown", () => {
    for (const w of manifest.contributes.viewsWelcome) {
      const text = w.contents.replace(/\[[^\]]*\]\([^)]*\)/g, "");
      assert.doesNotMatch(text, /\*\*|`|(^|\s)_\w/, `${w.view}: ${w.contents}`);
    }
  });

  it("links the settings with the extension filter, not a text search", () => {
    const links = manifest.contributes.viewsWelcome.flatMap((w) => [...w.contents.matchAll(/\(command:workbench\.action\.openSettings\?([^)]*)\)/g)]);
    assert.ok(links.length > 0);
    for (const m of links) assert.deepEqual(JSON.parse(decodeURIComponent(m[1] ?? "")), [`@ext:${manifest.publisher}.${manifest.name}`]);
  });

  it("puts the request-file commands in the editor menu of .ztb files only", () => {
    const editor = manifest.contributes.menus["editor/context"] ?? [];
    for (const id of ["ztb.sendRequest", "ztb.sendDocument"]) {
      const entry = editor.find((e) => e.command === id);
      assert.match(entry?.when ?? "", /\beditorLangId == ztb-request\b/, id);
    }
  });

  it("builds the extension bundle on npm install, and F5 builds and launches it", () => {
    assert.match(manifest.scripts["prepare"] ?? "", /\bnpm run build\b|extension\/esbuild\.mjs/, "prepare makes extension/dist");
    const launch = JSON.parse(readFileSync(path.join(root, ".vscode/launch.json"), "utf8")) as { configurations: LaunchConfig[] };
    const tasks = JSON.parse(readFileSync(path.join(root, ".vscode/tasks.json"), "utf8")) as { tasks: { label: string; script?: string; command?: string }[] };
    const host = launch.configurations.find((c) => c.type === "extensionHost" && c.request === "launch");
    assert.ok(host, "an extensionHost launch configuration");
    assert.ok(host.args?.includes("--extensionDevelopmentPath=${workspaceFolder}"));
    const task = tasks.tasks.find((t) => t.label === host.preLaunchTask);
    assert.ok(task, `its preLaunchTask ${String(host.preLaunchTask)} is in tasks.json`);
    assert.ok(task.script === "build" || /npm run build/.test(task.command ?? ""), "the task runs npm run build");
  });

  it("offers Delete on finished tasks next to Retry, and Delete All Failed on the Failed group only", () => {
    const items = manifest.contributes.menus["view/item/context"] ?? [];
    const values = allContextValues();
    const matched = (command: string): string[] => {
      const entries = items.filter((e) => e.command === command);
      assert.ok(entries.length > 0, `${command} is in a tree menu`);
      const all = entries.map((e) => {
        const re = new RegExp(/viewItem =~ \/(.+?)\//.exec(e.when ?? "")?.[1] ?? "^$");
        return values.filter((v) => re.test(v)).join(" ");
      });
      assert.equal(new Set(all).size, 1, `${command}: every entry matches the same rows`);
      return (all[0] ?? "").split(" ");
    };
    assert.deepEqual(matched("ztb.deleteTask"), ["succeededTask", "failedTask", "cancelledTask"]);
    assert.deepEqual(matched("ztb.deleteFailedTasks"), ["failedTaskGroup"]);
    const retry = items.find((e) => e.command === "ztb.retryTask" && !e.group?.startsWith("inline"));
    const remove = items.find((e) => e.command === "ztb.deleteTask" && !e.group?.startsWith("inline"));
    assert.equal(remove?.group?.split("@")[0], retry?.group?.split("@")[0], "Delete is in Retry's menu group");
  });
});

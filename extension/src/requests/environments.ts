/**
 * The request-file environment (REST Client's): the setting `ztb.environments` names sets of variables, one is chosen
 * from the status bar (kept per workspace), and `$shared` applies under every one. The status bar item shows while a
 * request file is the active editor.
 */
import * as vscode from "vscode";
import { environmentNames, environmentValues } from "./variables";

const STATE_KEY = "ztb.environment";
const NONE = "No Environment";

type Environments = Record<string, Record<string, string>>;

export class RequestEnvironments implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("ztb.environment", vscode.StatusBarAlignment.Right, 100);
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [];
  /** Fires when the chosen environment or the setting changed (diagnostics and CodeLenses re-read). */
  readonly onDidChange = this.changed.event;

  constructor(private readonly state: vscode.Memento) {
    this.item.name = "ZeroMQ Request Environment";
    this.item.command = "ztb.selectEnvironment";
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor(() => this.update()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration("ztb.environments")) return;
        this.update();
        this.changed.fire();
      }),
    );
    this.update();
  }

  /** The chosen environment, if it still exists in the setting. */
  get current(): string | undefined {
    const name = this.state.get<string>(STATE_KEY);
    return name !== undefined && environmentNames(this.environments()).includes(name) ? name : undefined;
  }

  /** The variables `{{name}}` resolves against after the file's own. */
  values(): Record<string, string> {
    return environmentValues(this.environments(), this.current);
  }

  /** Chooses an environment (`undefined` = none); from the status bar without an argument, through a quick pick. */
  async select(name?: unknown): Promise<string | undefined> {
    const names = environmentNames(this.environments());
    let chosen: string | undefined;
    if (typeof name === "string") chosen = name === NONE ? undefined : name;
    else {
      if (names.length === 0) {
        const open = "Open Settings";
        const choice = await vscode.window.showInformationMessage(
          'ZeroMQ Broker: no environments yet. Add them to the setting "ztb.environments", e.g. { "local": { "service": "echo" } }.',
          open,
        );
        if (choice === open) void vscode.commands.executeCommand("workbench.action.openSettings", "ztb.environments");
        return undefined;
      }
      const picked = await vscode.window.showQuickPick(
        [NONE, ...names].map((label) => ({ label, picked: label === (this.current ?? NONE) })),
        { placeHolder: `Environment for {{variables}} in request files (now: ${this.current ?? NONE})` },
      );
      if (!picked) return this.current;
      chosen = picked.label === NONE ? undefined : picked.label;
    }
    if (chosen !== undefined && !names.includes(chosen)) {
      void vscode.window.showErrorMessage(`ZeroMQ Broker: no environment "${chosen}" in the setting ztb.environments.`);
      return this.current;
    }
    await this.state.update(STATE_KEY, chosen);
    this.update();
    this.changed.fire();
    return chosen;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.item.dispose();
    this.changed.dispose();
  }

  private environments(): Environments {
    const raw = vscode.workspace.getConfiguration("ztb").get<unknown>("environments", {});
    const out: Environments = {};
    if (typeof raw !== "object" || raw === null) return out;
    for (const [name, vars] of Object.entries(raw as Record<string, unknown>)) {
      if (typeof vars !== "object" || vars === null) continue;
      out[name] = Object.fromEntries(Object.entries(vars as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
    }
    return out;
  }

  private update(): void {
    this.item.text = `$(symbol-variable) ${this.current ?? NONE}`;
    this.item.tooltip = "Environment for {{variables}} in ZeroMQ request files: click to choose";
    if (vscode.window.activeTextEditor?.document.languageId === "ztb-request") this.item.show();
    else this.item.hide();
  }
}

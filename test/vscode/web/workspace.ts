/**
 * Temporary folders for one web run: a workspace per phase (the sample request file plus settings that put the
 * broker on free loopback ports, so a run never collides with a broker on the default ports), and code-server's
 * user data with settings that keep first-start noise (welcome page, tips, update checks) out of the screenshots.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { freePort } from "./code-server";
import { SAMPLE_REQUEST_FILE, TYPED_REQUEST_FILE } from "../suite/ids";

const FIXTURES = path.join(__dirname, "..", "..", "..", "..", "test", "vscode", "fixtures");

export async function makeWorkspace(dir: string): Promise<string> {
  fs.mkdirSync(path.join(dir, ".vscode"), { recursive: true });
  fs.copyFileSync(path.join(FIXTURES, SAMPLE_REQUEST_FILE), path.join(dir, SAMPLE_REQUEST_FILE));
  fs.writeFileSync(path.join(dir, TYPED_REQUEST_FILE), "");
  const [clients, workers, answers, admin] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const settings = {
    "ztb.endpoints.clients": `tcp://127.0.0.1:${clients}`,
    "ztb.endpoints.workers": `tcp://127.0.0.1:${workers}`,
    "ztb.endpoints.answers": `tcp://127.0.0.1:${answers}`,
    "ztb.endpoints.admin": `tcp://127.0.0.1:${admin}`,
  };
  fs.writeFileSync(path.join(dir, ".vscode", "settings.json"), JSON.stringify(settings, null, 2));
  return dir;
}

export function writeUserSettings(userDataDir: string): void {
  const settings = {
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": false,
    "workbench.enableExperiments": false,
    "workbench.welcomePage.walkthroughs.openOnInstall": false,
    "security.workspace.trust.enabled": false,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "extensions.autoCheckUpdates": false,
    "extensions.autoUpdate": false,
    "extensions.ignoreRecommendations": true,
    "chat.commandCenter.enabled": false,
    "chat.disableAIFeatures": true,
    "window.commandCenter": false,
    "files.exclude": { "**/.vscode": true },
  };
  fs.mkdirSync(path.join(userDataDir, "User"), { recursive: true });
  fs.writeFileSync(path.join(userDataDir, "User", "settings.json"), JSON.stringify(settings, null, 2));
}

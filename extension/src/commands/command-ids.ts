/**
 * Every command the extension registers. No vscode import, so the manifest test can compare this list with
 * package.json `contributes.commands`; commands/table.ts must implement exactly these (its type says so).
 */
export const COMMAND_IDS = [
  "ztb.startBroker",
  "ztb.stopBroker",
  "ztb.restartBroker",
  "ztb.attachBroker",
  "ztb.detachBroker",
  "ztb.startTestWorkers",
  "ztb.stopTestWorkers",
  "ztb.sendSelection",
  "ztb.sendDocument",
  "ztb.sendRequest",
  "ztb.cancelTask",
  "ztb.retryTask",
  "ztb.deleteTask",
  "ztb.deleteFailedTasks",
  "ztb.showRequest",
  "ztb.showReply",
  "ztb.copyTaskId",
  "ztb.drainWorker",
  "ztb.resumeWorker",
  "ztb.copyWorkerName",
  "ztb.refresh",
  "ztb.showLog",
  "ztb.loadMoreTasks",
  "ztb.selectEnvironment",
  "ztb.rerunLastRequest",
  "ztb.showRequestHistory",
  "ztb.sendAgain",
  "ztb.saveReply",
  "ztb.copyAsCliCommand",
  "ztb.filterTasks",
  "ztb.clearTaskFilter",
  "ztb.clearFinishedTasks",
  "ztb.showChart",
  "ztb.openWalkthrough",
  "ztb.openSampleRequest",
] as const;

export type CommandId = (typeof COMMAND_IDS)[number];

/** Context keys set with `setContext`, used by `when` clauses in package.json. */
export const CONTEXT_KEYS = {
  /** The ConnectionState (api.ts). */
  state: "ztb.state",
  /** A broker is started or attached (any state but stopped/error). */
  hasBroker: "ztb.hasBroker",
  /** The extension's own broker child is running. */
  ownsBroker: "ztb.ownsBroker",
  /** Test workers are running. */
  testWorkers: "ztb.testWorkers",
  /** The Tasks view has a filter (offers Clear Task Filter). */
  tasksFiltered: "ztb.tasksFiltered",
} as const;

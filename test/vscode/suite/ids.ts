/**
 * Every identifier the integration suite and the web runner rely on, in one place: the extension id, its command ids
 * and view ids (package.json `contributes`), and how the runners hand results back.
 */
export const EXTENSION_ID = "ztb.ztb";

export const COMMANDS = {
  startBroker: "ztb.startBroker",
  stopBroker: "ztb.stopBroker",
  /** Args: see `testWorkersArgs` (without them it asks through two input boxes). */
  startTestWorkers: "ztb.startTestWorkers",
  stopTestWorkers: "ztb.stopTestWorkers",
  /** Args: the request document's URI and the block's start line (what the CodeLens passes). */
  sendRequest: "ztb.sendRequest",
  sendDocument: "ztb.sendDocument",
  /** Args: an admin endpoint (without it, an input box asks). */
  attachBroker: "ztb.attachBroker",
  detachBroker: "ztb.detachBroker",
  /** Args: a task id. Returns the URI of the document it opened. */
  showRequest: "ztb.showRequest",
  /** Args: a worker id. */
  drainWorker: "ztb.drainWorker",
  resumeWorker: "ztb.resumeWorker",
  /** Args: a task id. */
  deleteTask: "ztb.deleteTask",
  /** Args: a service name (or nothing: all services), then `true` to skip the confirmation. */
  deleteFailedTasks: "ztb.deleteFailedTasks",
  /** Args: an environment name. */
  selectEnvironment: "ztb.selectEnvironment",
  rerunLastRequest: "ztb.rerunLastRequest",
  /** Args: the reply document's URI. Returns the command it copied. */
  copyAsCliCommand: "ztb.copyAsCliCommand",
  /** Args: the reply document's URI. */
  sendAgain: "ztb.sendAgain",
  /** Args: the filter line. Returns the filter in force. */
  filterTasks: "ztb.filterTasks",
  clearTaskFilter: "ztb.clearTaskFilter",
  clearFinishedTasks: "ztb.clearFinishedTasks",
  /** Args: a task row, then the selected rows (as a multi-selection in the Tasks view passes them). */
  retryTask: "ztb.retryTask",
  showChart: "ztb.showChart",
  openWalkthrough: "ztb.openWalkthrough",
} as const;

/** Arguments of `ztb.startTestWorkers` that skip its input boxes: worker count, then drop rate in percent. */
export function testWorkersArgs(count: number, dropPercent: number): unknown[] {
  return [count, dropPercent];
}

export const VIEWS = {
  container: "ztb",
  broker: "ztb.broker",
  workers: "ztb.workers",
  tasks: "ztb.tasks",
} as const;

/** Palette labels the web runner types (category "ZeroMQ Broker" + command title). */
export const PALETTE = {
  startBroker: "ZeroMQ Broker: Start Broker",
  startTestWorkers: "ZeroMQ Broker: Start Test Workers",
  stopTestWorkers: "ZeroMQ Broker: Stop Test Workers",
  stopBroker: "ZeroMQ Broker: Stop Broker",
  showChart: "ZeroMQ Broker: Show Live Chart",
  filterTasks: "ZeroMQ Broker: Filter Tasks",
  getStarted: "ZeroMQ Broker: Get Started",
} as const;

/** The walkthrough's title (package.json contributes.walkthroughs), as its page shows it. */
export const WALKTHROUGH_TITLE = "Get Started with the ZeroMQ Task Broker";

/** The request file every test workspace contains (copied from test/vscode/fixtures). */
export const SAMPLE_REQUEST_FILE = "sample.ztb";
/** An empty request file every test workspace contains, for typing into. */
export const TYPED_REQUEST_FILE = "typed.ztb";

/** Env var naming the JSON file `run()` writes its results to; without it, `.ztb-test-results.json` in the workspace. */
export const RESULTS_ENV = "ZTB_VSCODE_RESULTS";
export const RESULTS_FALLBACK_NAME = ".ztb-test-results.json";
/** Set by `run-web --vsix`: the extensions folder the installed copy must be loaded from. */
export const INSTALLED_IN_ENV = "ZTB_VSCODE_INSTALLED_IN";

/** What `run()` writes: enough for the runner to print a verdict without parsing mocha's console output. */
export interface SuiteResults {
  passes: { title: string; durationMs: number }[];
  failures: { title: string; message: string; stack?: string }[];
  /** Set when the suite could not run at all (e.g. mocha failed to load a file). */
  error?: string;
}

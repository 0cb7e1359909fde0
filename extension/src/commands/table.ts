/**
 * The flat command table (Container Tools style): every id of command-ids.ts maps to its handler — the type makes a
 * missing or extra entry a compile error, and test/extension/manifest.test.ts checks the ids against package.json.
 */
import { attachBroker } from "./broker/attach";
import { detachBroker } from "./broker/detach";
import { restartBroker } from "./broker/restart";
import { startBroker } from "./broker/start";
import { stopBroker } from "./broker/stop";
import type { CommandId } from "./command-ids";
import { sendDocument } from "./requests/send-document";
import { sendRequest } from "./requests/send-request";
import { sendSelection } from "./requests/send-selection";
import type { CommandHandler } from "./services";
import { cancelTask } from "./tasks/cancel";
import { copyTaskId } from "./tasks/copy-id";
import { deleteFailedTasks, deleteTask } from "./tasks/delete";
import { loadMoreTasks } from "./tasks/load-more";
import { retryTask } from "./tasks/retry";
import { showReply } from "./tasks/show-reply";
import { showRequest } from "./tasks/show-request";
import { refresh } from "./view/refresh";
import { showLog } from "./view/show-log";
import { copyWorkerName } from "./workers/copy-name";
import { drainWorker } from "./workers/drain";
import { resumeWorker } from "./workers/resume";
import { startTestWorkers } from "./workers/start-test";
import { stopTestWorkers } from "./workers/stop-test";
import { openSampleRequest, openWalkthrough } from "./help/walkthrough";
import { copyAsCliCommand, saveReply, sendAgain } from "./replies/reply-actions";
import { rerunLastRequest, showRequestHistory } from "./requests/history";
import { selectEnvironment } from "./requests/select-environment";
import { showChart } from "./view/show-chart";
import { clearFinishedTasks, clearTaskFilter, filterTasks } from "./tasks/filter";

export const COMMAND_TABLE: { readonly [K in CommandId]: CommandHandler } = {
  "ztb.startBroker": startBroker,
  "ztb.stopBroker": stopBroker,
  "ztb.restartBroker": restartBroker,
  "ztb.attachBroker": attachBroker,
  "ztb.detachBroker": detachBroker,
  "ztb.startTestWorkers": startTestWorkers,
  "ztb.stopTestWorkers": stopTestWorkers,
  "ztb.sendSelection": sendSelection,
  "ztb.sendDocument": sendDocument,
  "ztb.sendRequest": sendRequest,
  "ztb.cancelTask": cancelTask,
  "ztb.retryTask": retryTask,
  "ztb.deleteTask": deleteTask,
  "ztb.deleteFailedTasks": deleteFailedTasks,
  "ztb.showRequest": showRequest,
  "ztb.showReply": showReply,
  "ztb.copyTaskId": copyTaskId,
  "ztb.drainWorker": drainWorker,
  "ztb.resumeWorker": resumeWorker,
  "ztb.copyWorkerName": copyWorkerName,
  "ztb.refresh": refresh,
  "ztb.showLog": showLog,
  "ztb.loadMoreTasks": loadMoreTasks,
  "ztb.selectEnvironment": selectEnvironment,
  "ztb.rerunLastRequest": rerunLastRequest,
  "ztb.showRequestHistory": showRequestHistory,
  "ztb.sendAgain": sendAgain,
  "ztb.saveReply": saveReply,
  "ztb.copyAsCliCommand": copyAsCliCommand,
  "ztb.filterTasks": filterTasks,
  "ztb.clearTaskFilter": clearTaskFilter,
  "ztb.clearFinishedTasks": clearFinishedTasks,
  "ztb.showChart": showChart,
  "ztb.openWalkthrough": openWalkthrough,
  "ztb.openSampleRequest": openSampleRequest,
};

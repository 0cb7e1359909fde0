/**
 * `ztb conformance`: checks a worker or client implementation against protocol/spec.md by standing in for the broker
 * on its own sockets. Public entry point of the folder.
 */
export { checkClient, type ClientCheckOptions } from "./client-driver";
export { checkLegacyWorker } from "./legacy-driver";
export { checkModernWorker, type WorkerCheckOptions } from "./worker-driver";
export { CLIENT_CHECKS, WORKER_CHECKS, type CheckResult, type CheckStatus } from "./checks";
export { killAll } from "./peer-process";
export { exitCode, formatJson, formatText, summarize, type Report, type Summary } from "./report";

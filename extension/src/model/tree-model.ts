/**
 * The three sidebar trees as plain data (Container Tools' pattern): the model in, nodes out. The vscode
 * TreeDataProviders in ../tree only turn these into TreeItems, so everything a person reads in the sidebar is
 * unit-tested here without VS Code.
 */
import type { BrokerInfo, FrameView, TaskState, TaskView, WorkerView } from "../../../broker/src/protocol/messages";
import type { ConnectionState } from "../api";
import type { BrokerModel } from "./broker-model";
import { connectionsOf, memoryOf, mib, percent, RESIDENT_AT, SHED_AT } from "./broker-resources";
import { FIXED_CONTEXT_VALUES as CV, taskContextValue, taskGroupContextValue, workerContextValue } from "./context-values";
import { coarseDuration, exactDuration, timestamp } from "./relative-time";
import { taskMatches, type TaskFilter } from "./task-filter";

export interface TreeIcon {
  /** A codicon id, e.g. "pass" or "loading~spin". */
  id: string;
  /** A theme color id, e.g. "testing.iconPassed". */
  color?: string;
}

export interface TreeNode {
  /**
   * Unique in its view and stable across updates: a worker keeps its node, a task keeps its node while it stays in its
   * group. A task that changes group gets a new id (taskNodeId): VS Code registers ids per view, and the model moves a
   * task at once while the tree re-reads its old group only at the next (debounced) refresh; a group opened in between
   * would meet the task's old row, and one id in two groups is an "already registered" error.
   */
  id: string;
  label: string;
  description?: string;
  tooltip?: string;
  icon?: TreeIcon;
  contextValue: string;
  collapsible: "none" | "collapsed" | "expanded";
  command?: { command: string; title: string; arguments: unknown[] };
  /** The task or worker id the node stands for (the argument tree commands receive). */
  taskId?: string;
  workerId?: string;
  state?: TaskState;
}

export const TASK_PAGE_SIZE = 100;

export const TASK_GROUP_ORDER: readonly TaskState[] = ["running", "queued", "failed", "cancelled", "succeeded"];

const STATE_LABEL: Record<TaskState, string> = {
  queued: "Queued",
  running: "Running",
  succeeded: "Succeeded",
  failed: "Failed",
  cancelled: "Cancelled",
};

const STATE_ICON: Record<TaskState, TreeIcon> = {
  queued: { id: "clock", color: "charts.yellow" },
  running: { id: "play-circle", color: "charts.blue" },
  succeeded: { id: "pass", color: "testing.iconPassed" },
  failed: { id: "error", color: "testing.iconFailed" },
  cancelled: { id: "circle-slash", color: "disabledForeground" },
};

// ------------------------------------------------------------------------------------------------------------------
// Broker view

export interface BrokerViewInput {
  state: ConnectionState;
  /** True when the extension started this broker (vs attached to it). */
  owned: boolean;
  model: BrokerModel;
  /** The admin endpoint being monitored. */
  admin: string | undefined;
  lastError: string | undefined;
}

/**
 * Empty when there is no broker: the view then shows its `viewsWelcome` (Start Broker / Attach). After a failure it
 * says why (the broker's last error line) instead.
 */
export function brokerRootNodes(input: BrokerViewInput): TreeNode[] {
  const info = input.model.broker();
  switch (input.state) {
    case "stopped":
      return [];
    case "error":
      return [
        node("broker:status", "Broker failed", CV.message, {
          description: input.lastError ?? "see the log",
          icon: { id: "error", color: "testing.iconFailed" },
          tooltip: input.lastError ?? "The broker stopped unexpectedly.",
        }),
        node("broker:showLog", "Show Broker Log", CV.message, {
          icon: { id: "output" },
          command: { command: "ztb.showLog", title: "Show Broker Log", arguments: [] },
        }),
        node("broker:start", "Start Broker", CV.message, {
          icon: { id: "play" },
          command: { command: "ztb.startBroker", title: "Start Broker", arguments: [] },
        }),
      ];
    case "starting":
      return [
        node("broker:status", "Starting…", CV.brokerState, {
          description: input.admin,
          icon: { id: "loading~spin" },
          tooltip: `Waiting for the broker's first snapshot on ${input.admin ?? "the admin endpoint"}`,
        }),
      ];
    case "disconnected":
      return [
        node("broker:status", "Disconnected", CV.brokerState, {
          description: `re-attaching to ${input.admin ?? "?"}`,
          icon: { id: "debug-disconnect", color: "list.warningForeground" },
          tooltip: `No answer from the admin endpoint ${input.admin ?? ""}; retrying. The views show the last known state.`,
        }),
        ...(info ? [...clusterNodes(info), ...resourceNodes(info), ...infoGroups()] : []),
      ];
    case "running":
    case "attached": {
      if (!info) return [];
      const how = input.owned ? "started here" : "attached";
      const kept = info.durable === undefined ? [] : [info.durable ? "durable" : "in memory"];
      return [
        node("broker:status", `Broker ${info.state}`, CV.brokerState, {
          description: [how, `v${info.version}`, ...kept].join(" · "),
          icon: info.state === "running" ? { id: "vm-running", color: "testing.iconPassed" } : { id: "vm-outline" },
          tooltip: [
            `Version ${info.version}`,
            `Started ${timestamp(info.startedAt)}`,
            `Admin ${input.admin ?? ""}`,
            ...(info.durable === undefined ? [] : [`Tasks: ${durability(info)}`]),
          ].join("\n"),
        }),
        ...clusterNodes(info),
        ...resourceNodes(info),
        ...infoGroups(),
      ];
    }
  }
}

/** Where the broker keeps its tasks (SNAPSHOT `durable` and `fsync`, ZTB/1.1 §Durability). */
function durability(info: BrokerInfo): string {
  if (!info.durable) return "in memory (lost when the broker stops)";
  return info.fsync === undefined ? "durable journal" : `durable journal, fsync ${info.fsync}`;
}

/**
 * SNAPSHOT `broker.cluster` (issue 11, present only when the broker runs with --cluster): the cluster it belongs to and
 * each service's depth across the cluster. Read defensively: the member is optional and newer than this extension's
 * copy of BrokerInfo may be.
 */
export interface ClusterInfo {
  name: string;
  broker: string;
  connected: boolean;
  services: Record<string, { waiting: number; running: number }>;
}

export function clusterOf(info: BrokerInfo): ClusterInfo | undefined {
  const raw: unknown = (info as { cluster?: unknown }).cluster;
  if (typeof raw !== "object" || raw === null) return undefined;
  const c = raw as Record<string, unknown>;
  if (typeof c["name"] !== "string" || typeof c["broker"] !== "string" || typeof c["connected"] !== "boolean") return undefined;
  const services: ClusterInfo["services"] = {};
  if (typeof c["services"] === "object" && c["services"] !== null) {
    for (const [name, depth] of Object.entries(c["services"] as Record<string, unknown>)) {
      const d = (typeof depth === "object" && depth !== null ? depth : {}) as Record<string, unknown>;
      services[name] = { waiting: typeof d["waiting"] === "number" ? d["waiting"] : 0, running: typeof d["running"] === "number" ? d["running"] : 0 };
    }
  }
  return { name: c["name"], broker: c["broker"], connected: c["connected"], services };
}

function clusterNodes(info: BrokerInfo): TreeNode[] {
  const cluster = clusterOf(info);
  if (!cluster) return [];
  const services = Object.keys(cluster.services).length;
  return [
    node("broker:cluster", `Cluster ${cluster.name} (${cluster.connected ? "connected" : "not connected"})`, CV.brokerSetting, {
      description: `as ${cluster.broker} · ${services} service${services === 1 ? "" : "s"}`,
      icon: cluster.connected ? { id: "organization", color: "testing.iconPassed" } : { id: "organization", color: "list.warningForeground" },
      tooltip: `This broker is ${cluster.broker} in cluster ${cluster.name}, ${cluster.connected ? "connected to it" : "NOT connected to it (its depths below may be stale)"}.`,
      collapsible: services > 0 ? "expanded" : "none",
    }),
  ];
}

function clusterChildNodes(info: BrokerInfo): TreeNode[] {
  const cluster = clusterOf(info);
  if (!cluster) return [];
  return Object.entries(cluster.services)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([service, depth]) =>
      node(`broker:cluster:${service}`, service, CV.brokerCounter, {
        description: `${depth.waiting} waiting · ${depth.running} running`,
        icon: { id: "layers" },
        tooltip: `Service ${service} across cluster ${cluster.name}: ${depth.waiting} waiting, ${depth.running} running`,
      }),
    );
}

/** What the broker uses of what it may (issue 14: the memory budget and load shedding, visible in the extension). */
function resourceNodes(info: BrokerInfo): TreeNode[] {
  return [...memoryNodes(info), ...connectionNodes(info)];
}

function memoryNodes(info: BrokerInfo): TreeNode[] {
  const memory = memoryOf(info);
  if (!memory) return [];
  const used = `${Math.round(memory.rss / 2 ** 20)} of ${mib(memory.budget)} (${percent(memory.rss / memory.budget)})`;
  return [
    node("broker:memory", "Memory", CV.brokerMemory, {
      description: memory.shedding ? `${used} · shedding load` : used,
      icon: memory.shedding ? { id: "warning", color: "list.warningForeground" } : { id: "dashboard" },
      tooltip: [
        `Resident memory ${mib(memory.rss)} of the ${mib(memory.budget)} budget (--max-memory), at the broker's last sample.`,
        ...(memory.live === undefined ? [] : [`Of it, the broker holds ${mib(memory.live)} (live, at the same sample).`]),
        `New requests get queue-full while the broker holds ${percent(SHED_AT)} of the budget or its resident memory reaches ${percent(RESIDENT_AT)}, until both stay under for a second.`,
        ...(memory.shedding ? ["Shedding load now: new requests are refused with queue-full."] : []),
      ].join("\n"),
    }),
  ];
}

function connectionNodes(info: BrokerInfo): TreeNode[] {
  const connections = connectionsOf(info);
  if (!connections) return [];
  const handshakes = connections.reduce((sum, c) => sum + c.handshakes, 0);
  const counts = connections.map((c) => `${c.endpoint} ${c.peers}`);
  return [
    node("broker:connections", "Connections", CV.brokerConnections, {
      description: [...counts, ...(handshakes > 0 ? [`${handshakes} in handshake`] : [])].join(" · ") || "none counted",
      icon: { id: "radio-tower" },
      tooltip: [
        "Connected peers per endpoint (this window's monitor is among the admin ones):",
        ...connections.map((c) => `${c.endpoint}: ${c.peers} connected${c.handshakes > 0 ? `, ${c.handshakes} still in the ZeroMQ handshake` : ""}`),
      ].join("\n"),
    }),
  ];
}

function infoGroups(): TreeNode[] {
  return [
    node("broker:counters", "Counters", CV.brokerSetting, { collapsible: "expanded", icon: { id: "graph" } }),
    node("broker:endpoints", "Endpoints", CV.brokerSetting, { collapsible: "collapsed", icon: { id: "plug" } }),
    node("broker:settings", "Settings", CV.brokerSetting, { collapsible: "collapsed", icon: { id: "settings" } }),
  ];
}

export function brokerChildNodes(input: BrokerViewInput, parentId: string): TreeNode[] {
  const info = input.model.broker();
  const counters = input.model.counters();
  if (!info) return [];
  switch (parentId) {
    case "broker:cluster":
      return clusterChildNodes(info);
    case "broker:endpoints": {
      const e = info.endpoints;
      const rows: [string, string | null][] = [
        ["Clients", e.clients],
        ["Workers", e.workers],
        ["Answers", e.answers],
        ["Admin", e.admin],
      ];
      return rows.map(([label, value]) =>
        node(`broker:endpoint:${label}`, label, CV.brokerEndpoint, { description: value ?? "—", icon: { id: "plug" } }),
      );
    }
    case "broker:settings":
      return [
        node("broker:setting:tries", "Tries", CV.brokerSetting, { description: info.tries === null ? "unlimited" : `${info.tries}` }),
        node("broker:setting:timeout", "Timeout", CV.brokerSetting, {
          description: info.timeout === null ? "none" : exactDuration(info.timeout),
        }),
        node("broker:setting:heartbeat", "Heartbeat", CV.brokerSetting, { description: exactDuration(info.heartbeat) }),
        node("broker:setting:maxQueue", "Max queue", CV.brokerSetting, {
          description: info.maxQueue === null ? "unbounded" : `${info.maxQueue}`,
        }),
        ...(info.durable === undefined
          ? []
          : [
              node("broker:setting:durability", "Tasks", CV.brokerSetting, {
                description: durability(info),
                icon: { id: info.durable ? "database" : "circuit-board" },
              }),
            ]),
      ];
    case "broker:counters": {
      if (!counters) return [];
      const m = counters.malformed;
      const rows: [string, number, string][] = [
        ["Queued", counters.queued, "clock"],
        ["Running", counters.running, "play-circle"],
        ["Succeeded", counters.succeeded, "pass"],
        ["Failed", counters.failed, "error"],
        ["Cancelled", counters.cancelled, "circle-slash"],
        ["Retried", counters.retried, "debug-rerun"],
        ["Workers", counters.workers, "server-process"],
        ["Late answers", counters.late, "history"],
        ["Rejected", counters.rejected, "warning"],
        ["Malformed", m.client + m.worker + m.answers + m.admin, "bug"],
      ];
      return rows.map(([label, value, icon]) =>
        node(`broker:counter:${label}`, label, CV.brokerCounter, {
          description: `${value}`,
          icon: { id: icon },
          tooltip:
            label === "Malformed"
              ? `client ${m.client} · worker ${m.worker} · answers ${m.answers} · admin ${m.admin}`
              : `${label}: ${value} (requests ${counters.requests}, replies ${counters.replies})`,
        }),
      );
    }
    default:
      return [];
  }
}

// ------------------------------------------------------------------------------------------------------------------
// Workers view

export function workerNodes(model: BrokerModel, now: number): TreeNode[] {
  return model.workers().map((w) => workerNode(w, now));
}

export function workerNode(w: WorkerView, now: number): TreeNode {
  const load = w.kind === "legacy" ? `${w.held}/1` : `${w.held}/${w.capacity}`;
  const icon: TreeIcon =
    w.state === "draining"
      ? { id: "debug-pause", color: "list.warningForeground" }
      : w.state === "busy"
        ? { id: "pulse", color: "charts.blue" }
        : { id: "circle-large-outline", color: "testing.iconPassed" };
  const tooltip = [
    `${w.name} (${w.id}), ${w.kind} worker, ${w.state}`,
    `Services: ${w.services.join(", ")}`,
    `Holding ${w.held} of ${w.kind === "legacy" ? 1 : w.capacity}${w.tasks.length ? `: ${w.tasks.join(", ")}` : ""}`,
    `Done ${w.done}, failed ${w.failed}`,
    `Last seen ${timestamp(w.lastSeen)}${w.heartbeat === null ? "" : `, heartbeat every ${exactDuration(w.heartbeat)}`}`,
  ].join("\n");
  return node(`worker:${w.id}`, w.name, workerContextValue(w), {
    description: `${w.kind} · ${w.state} ${load} · ${w.done} done · ${w.failed} failed · seen ${coarseDuration(now - w.lastSeen)} ago`,
    icon,
    tooltip,
    workerId: w.id,
  });
}

// ------------------------------------------------------------------------------------------------------------------
// Tasks view

/**
 * One group per state with its count; the broker's cumulative counter is shown when history dropped some. No groups
 * before the broker has had a task, so the view shows its welcome text (how to send one) instead of five empty groups.
 */
export function taskGroupNodes(model: BrokerModel, filter?: TaskFilter): TreeNode[] {
  const counters = model.counters();
  if (model.taskCount === 0 && (counters?.requests ?? 0) === 0) return [];
  if (filter) return filteredGroupNodes(model, filter);
  return TASK_GROUP_ORDER.map((state) => {
    const shown = model.countIn(state);
    const total = counters ? counters[state] : shown;
    const description = total > shown && isCumulative(state) ? `${shown} (of ${total})` : `${shown}`;
    return node(`group:${state}`, STATE_LABEL[state], taskGroupContextValue(state), {
      description,
      icon: STATE_ICON[state],
      collapsible: state === "cancelled" ? "collapsed" : "expanded",
      tooltip:
        total > shown && isCumulative(state)
          ? `${total} ${state} since the broker started; the newest ${shown} are kept (setting ztb.historySize).`
          : `${shown} ${state}`,
      state,
    });
  });
}

/** With a filter: only the groups that hold a matching task, each with "matching of held". */
function filteredGroupNodes(model: BrokerModel, filter: TaskFilter): TreeNode[] {
  const out: TreeNode[] = [];
  for (const state of TASK_GROUP_ORDER) {
    const held = model.countIn(state);
    const matching = filteredTasks(model, state, filter).length;
    if (matching === 0) continue;
    out.push(
      node(`group:${state}`, STATE_LABEL[state], taskGroupContextValue(state), {
        description: `${matching} of ${held}`,
        icon: STATE_ICON[state],
        collapsible: "expanded",
        tooltip: `${matching} of the ${held} ${state} tasks shown match the filter`,
        state,
      }),
    );
  }
  return out;
}

function filteredTasks(model: BrokerModel, state: TaskState, filter: TaskFilter | undefined): TaskView[] {
  const tasks = model.tasksIn(state);
  if (!filter) return tasks;
  return tasks.filter((t) => taskMatches(t, filter, taskLabel(t, model.titleOf(t.id)), t.worker === null ? undefined : model.workerName(t.worker)));
}

/**
 * What a person recognises a task by: the block title of a request sent from a request file ("sample.ztb#1 Say
 * hello"), else its first payload frame, shortened to one line.
 */
export function taskLabel(t: TaskView, title: string | undefined): string {
  if (title !== undefined) return title;
  const preview = t.preview;
  if (!("text" in preview)) {
    const hex = preview.hex.match(/../g) ?? [];
    return hex.length === 0 ? "(empty frame)" : `hex ${hex.slice(0, 8).join(" ")}${hex.length > 8 || t.size > 8 ? " …" : ""}`;
  }
  const flat = preview.text.replace(/\s+/g, " ").trim();
  if (flat === "") return "(empty frame)";
  return flat.length > LABEL_CHARS ? `${flat.slice(0, LABEL_CHARS - 1)}…` : flat;
}

const LABEL_CHARS = 40;

function isCumulative(state: TaskState): boolean {
  return state === "succeeded" || state === "failed" || state === "cancelled";
}

/** The first `limit` tasks of a group, newest first, then a "Load more…" node when there are more. */
export function taskNodes(model: BrokerModel, state: TaskState, limit: number, now: number, filter?: TaskFilter): TreeNode[] {
  const tasks = filteredTasks(model, state, filter);
  const nodes = tasks.slice(0, limit).map((t) => taskNode(t, model, now));
  if (tasks.length > limit) {
    nodes.push(
      node(`more:${state}`, "Load more…", CV.loadMoreTasks, {
        description: `${limit} of ${tasks.length} shown`,
        icon: { id: "ellipsis" },
        command: { command: "ztb.loadMoreTasks", title: "Load More Tasks", arguments: [state] },
        state,
      }),
    );
  }
  return nodes;
}

export function taskNode(t: TaskView, model: BrokerModel, now: number): TreeNode {
  const workerName = t.worker === null ? undefined : model.workerName(t.worker);
  const attempts = `${t.attempt}/${t.attempts ?? "∞"}`;
  const parts = [t.service, `attempt ${attempts}`];
  if (workerName) parts.push(workerName);
  parts.push(taskTime(t, now));
  if (t.reason) parts.push(t.reason);
  parts.push(t.id);
  return node(taskNodeId(t.state, t.id), taskLabel(t, model.titleOf(t.id)), taskContextValue(t.state), {
    description: parts.join(" · "),
    icon: STATE_ICON[t.state],
    tooltip: taskTooltip(t, workerName),
    taskId: t.id,
    state: t.state,
  });
}

/** A task row's id: its group is part of it (see TreeNode.id). */
export function taskNodeId(state: TaskState, taskId: string): string {
  return `task:${state}:${taskId}`;
}

/** The group and task id of a task row's id, undefined for other rows. */
export function parseTaskNodeId(nodeId: string): { state: TaskState; taskId: string } | undefined {
  const match = /^task:([a-z]+):(.+)$/.exec(nodeId);
  const state = TASK_GROUP_ORDER.find((s) => s === match?.[1]);
  return state === undefined || match?.[2] === undefined ? undefined : { state, taskId: match[2] };
}

/** Queued: waiting time; running: runtime so far (coarse, they move); finished: exact total time (fixed). */
export function taskTime(t: TaskView, now: number): string {
  switch (t.state) {
    case "queued":
      return `waiting ${coarseDuration(now - t.createdAt)}`;
    case "running":
      return `running ${coarseDuration(now - (t.dispatchedAt ?? t.createdAt))}`;
    default:
      return t.finishedAt === undefined ? "finished" : `took ${exactDuration(t.finishedAt - t.createdAt)}`;
  }
}

export function taskTooltip(t: TaskView, workerName: string | undefined): string {
  const lines = [
    `Task ${t.id} (${t.state})`,
    `Service ${t.service}, attempt ${t.attempt} of ${t.attempts ?? "unlimited"}, from a ${t.origin} request`,
  ];
  if (workerName) lines.push(`Worker ${workerName}`);
  lines.push(`Created ${timestamp(t.createdAt)}`);
  if (t.dispatchedAt !== undefined) lines.push(`Dispatched ${timestamp(t.dispatchedAt)}`);
  if (t.finishedAt !== undefined) lines.push(`Finished ${timestamp(t.finishedAt)}`);
  if (t.reason) lines.push(`Failure reason: ${t.reason}${t.message ? ` — ${t.message}` : ""}`);
  else if (t.message) lines.push(`Message: ${t.message}`);
  lines.push(`Request ${t.size} bytes, starts with ${previewText(t.preview)}`);
  return lines.join("\n");
}

function previewText(frame: FrameView): string {
  return "text" in frame ? JSON.stringify(frame.text) : `hex ${frame.hex}`;
}

function node(id: string, label: string, contextValue: string, extra: Partial<TreeNode> = {}): TreeNode {
  return { id, label, contextValue, collapsible: "none", ...extra };
}

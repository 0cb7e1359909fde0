/** The Broker, Workers and Tasks views: thin wrappers over model/tree-model.ts. */
import * as vscode from "vscode";
import type { MonitorBridge } from "../bridge/monitor-bridge";
import type { BrokerSession } from "../broker/session";
import { isFinished, type ModelChange } from "../model/broker-model";
import {
  brokerChildNodes,
  brokerRootNodes,
  parseTaskNodeId,
  TASK_PAGE_SIZE,
  taskGroupNodes,
  taskNode,
  taskNodeId,
  taskNodes,
  workerNode,
  workerNodes,
  type TreeNode,
} from "../model/tree-model";
import type { TaskState } from "../../../broker/src/protocol/messages";
import { PAGE } from "../../../broker/src/protocol/limits";
import type { TaskFilter } from "../model/task-filter";
import { NodeProvider } from "./node-provider";

export class BrokerProvider extends NodeProvider {
  constructor(private readonly session: BrokerSession) {
    super();
  }
  protected build(parent: TreeNode | undefined): TreeNode[] {
    const input = {
      state: this.session.state,
      owned: this.session.owned,
      model: this.session.model,
      admin: this.session.admin,
      lastError: this.session.lastError,
    };
    return parent ? brokerChildNodes(input, parent.id) : brokerRootNodes(input);
  }
  protected rebuild(): TreeNode | undefined {
    return undefined;
  }
  protected affected(change: ModelChange): string[] | undefined {
    // Small view: counters change with nearly every event; re-render it whole.
    return change.counters || change.broker ? undefined : [];
  }
}

export class WorkersProvider extends NodeProvider {
  constructor(private readonly session: BrokerSession) {
    super();
  }
  protected build(parent: TreeNode | undefined): TreeNode[] {
    return parent || !this.session.hasBroker ? [] : workerNodes(this.session.model, Date.now());
  }
  protected rebuild(id: string): TreeNode | undefined {
    const worker = this.session.model.worker(id.replace(/^worker:/, ""));
    return worker ? workerNode(worker, Date.now()) : undefined;
  }
  protected affected(change: ModelChange): string[] | undefined {
    return change.workers === "all" ? undefined : [...change.workers].map((id) => `worker:${id}`);
  }
}

export class TasksProvider extends NodeProvider {
  private readonly limits = new Map<TaskState, number>();
  private current: TaskFilter | undefined;
  private readonly filterChanged = new vscode.EventEmitter<TaskFilter | undefined>();
  /** Fires when the filter is set or cleared (the view shows it; a context key offers Clear Filter). */
  readonly onDidChangeFilter = this.filterChanged.event;

  get filter(): TaskFilter | undefined {
    return this.current;
  }

  setFilter(filter: TaskFilter | undefined): void {
    this.current = filter;
    this.filterChanged.fire(filter);
    this.refresh(undefined);
  }

  override dispose(): void {
    this.filterChanged.dispose();
    super.dispose();
  }

  constructor(
    private readonly session: BrokerSession,
    private readonly bridge: MonitorBridge,
  ) {
    super();
  }

  protected build(parent: TreeNode | undefined): TreeNode[] {
    if (!this.session.hasBroker) return [];
    const model = this.session.model;
    if (!parent) return taskGroupNodes(model, this.current);
    if (parent.id.startsWith("group:") && parent.state) {
      return taskNodes(model, parent.state, this.limits.get(parent.state) ?? TASK_PAGE_SIZE, Date.now(), this.current);
    }
    return [];
  }

  protected rebuild(id: string): TreeNode | undefined {
    const model = this.session.model;
    const row = parseTaskNodeId(id);
    if (row) {
      const task = model.task(row.taskId);
      // A task that left the group is no longer this row; its new group re-renders it under its new id.
      return task?.state === row.state ? taskNode(task, model, Date.now()) : undefined;
    }
    if (id.startsWith("group:")) return taskGroupNodes(model, this.current).find((g) => g.id === id);
    return undefined;
  }

  protected affected(change: ModelChange): string[] | undefined {
    // A filter decides which groups exist at all: re-read the view.
    if (change.tasks === "all" || (this.current && change.groups.size > 0)) return undefined;
    const model = this.session.model;
    const rows: string[] = [];
    for (const id of change.tasks) {
      const task = model.task(id);
      if (task) rows.push(taskNodeId(task.state, id));
    }
    // Membership changed: re-render the groups (their counts and children), not the whole view.
    return [...[...change.groups].map((s) => `group:${s}`), ...rows];
  }

  /**
   * "Load more…": shows another page; when the model holds fewer finished tasks than the broker keeps, fetches the
   * next page from the broker (§Admin SNAPSHOT tasks query).
   */
  async loadMore(state: TaskState): Promise<void> {
    const limit = (this.limits.get(state) ?? TASK_PAGE_SIZE) + TASK_PAGE_SIZE;
    this.limits.set(state, limit);
    const model = this.session.model;
    const have = model.countIn(state);
    if (isFinished(state) && have < limit) {
      const result = await this.bridge.action({ kind: "page", state, offset: have, limit: Math.min(PAGE.max, limit - have) });
      if (result.kind === "page") model.addTasks(result.tasks);
    }
    this.refresh(undefined);
  }
}

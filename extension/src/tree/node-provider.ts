/**
 * The base of the three TreeDataProviders: elements are TreeNodes kept in a cache by id, so the SAME object stands for
 * a task or worker across renders. That identity is what lets `refresh(nodeIds)` fire onDidChangeTreeData for single
 * rows: VS Code finds a row by the element object it was given.
 */
import * as vscode from "vscode";
import type { ModelChange } from "../model/broker-model";
import type { TreeNode } from "../model/tree-model";
import { toTreeItem } from "./node-tree-item";

/** A node with its rendered children (NodeProvider.dump). */
export type DumpNode = TreeNode & { children?: DumpNode[] };

export abstract class NodeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly cache = new Map<string, TreeNode>();
  /** The ids each parent ("" = root) showed last, so rows that left the tree leave the cache too. */
  private readonly shown = new Map<string, string[]>();
  private readonly changed = new vscode.EventEmitter<TreeNode | TreeNode[] | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  /** Fresh nodes: the roots, or the children of `parent`. */
  protected abstract build(parent: TreeNode | undefined): TreeNode[];
  /** A fresh node for an id, if a single row can be re-rendered (else the provider refreshes its parent). */
  protected abstract rebuild(id: string): TreeNode | undefined;
  /** Which cached rows a model change touches; `undefined` = refresh the whole view. */
  protected abstract affected(change: ModelChange): string[] | undefined;

  getTreeItem(element: TreeNode): vscode.TreeItem {
    return toTreeItem(element);
  }

  getChildren(element?: TreeNode): TreeNode[] {
    const children = this.build(element).map((node) => this.intern(node));
    this.forgetLeft(element?.id ?? "", children);
    return children;
  }

  /** The whole tree as shown (groups expanded), for the API's view inspection. */
  dump(parent?: TreeNode): DumpNode[] {
    return this.build(parent).map((node) => (node.collapsible === "none" ? node : { ...node, children: this.dump(node) }));
  }

  /** Re-renders what `change` touched (whole view when it cannot tell). */
  refresh(change: ModelChange | undefined): void {
    const ids = change === undefined ? undefined : this.affected(change);
    if (ids === undefined) {
      this.changed.fire(undefined);
      return;
    }
    const elements: TreeNode[] = [];
    for (const id of ids) {
      const cached = this.cache.get(id);
      const fresh = this.rebuild(id);
      if (!cached || fresh?.id !== id) continue;
      Object.assign(cached, fresh);
      elements.push(cached);
    }
    if (elements.length > 0) this.changed.fire(elements);
  }

  dispose(): void {
    this.changed.dispose();
  }

  private forgetLeft(parentId: string, children: readonly TreeNode[]): void {
    const now = children.map((c) => c.id);
    const kept = new Set(now);
    for (const id of this.shown.get(parentId) ?? []) {
      if (kept.has(id)) continue;
      this.cache.delete(id);
      this.forgetLeft(id, []);
    }
    if (now.length > 0) this.shown.set(parentId, now);
    else this.shown.delete(parentId);
  }

  private intern(node: TreeNode): TreeNode {
    const cached = this.cache.get(node.id);
    if (!cached) {
      this.cache.set(node.id, node);
      return node;
    }
    for (const key of Object.keys(cached) as (keyof TreeNode)[]) if (!(key in node)) delete cached[key];
    return Object.assign(cached, node);
  }
}

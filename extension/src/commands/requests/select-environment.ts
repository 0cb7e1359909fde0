import type { Services } from "../services";

/** Select Request Environment… (the status bar item): a name as argument chooses it without asking. */
export function selectEnvironment(s: Services, name?: unknown): Promise<string | undefined> {
  return s.environments.select(name);
}

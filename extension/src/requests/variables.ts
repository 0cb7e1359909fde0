/**
 * Variables in request files, as REST Client has them: file-level `@name = value` lines and the chosen environment
 * (setting `ztb.environments`), written `{{name}}` in frames and option values. Pure, unit-tested.
 *
 * Precedence: a file variable, then the chosen environment, then the environment `$shared`. A value may use other
 * variables; a cycle or an unknown name is an error on the line that needs it. There is no escape for a literal `{{`:
 * such a frame is written as `hex:` (Show Request does so).
 */

export interface FileVariable {
  name: string;
  value: string;
  /** 0-based line of the definition. */
  line: number;
}

/** `@name = value`: the `=` right after the name is what tells a variable from an option (`@service NAME`). */
const DEFINITION = /^@([A-Za-z_][\w.-]*)\s*=\s*(.*?)\s*$/;
const REFERENCE = /\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}/g;
const MAX_DEPTH = 10;

export function parseDefinition(line: string): { name: string; value: string } | undefined {
  const match = DEFINITION.exec(line);
  return match?.[1] === undefined ? undefined : { name: match[1], value: match[2] ?? "" };
}

/** The shared values with the chosen environment's on top (`$shared` is what every environment inherits). */
export function environmentValues(environments: Readonly<Record<string, Readonly<Record<string, string>>>>, chosen: string | undefined): Record<string, string> {
  const shared = environments["$shared"] ?? {};
  const own = chosen === undefined || chosen === "$shared" ? {} : (environments[chosen] ?? {});
  return { ...shared, ...own };
}

/** The environments a person can choose (every key but `$shared`), sorted. */
export function environmentNames(environments: Readonly<Record<string, unknown>>): string[] {
  return Object.keys(environments).filter((name) => name !== "$shared").sort();
}

export type Substitution = { ok: true; text: string } | { ok: false; message: string; name: string; column: number };

/** Looks names up: file variables first, then the environment. */
export class VariableScope {
  private readonly file = new Map<string, string>();

  constructor(
    definitions: readonly FileVariable[],
    private readonly environment: Readonly<Record<string, string>> = {},
  ) {
    for (const d of definitions) if (!this.file.has(d.name)) this.file.set(d.name, d.value);
  }

  /** Every name in scope (for completion and quick fixes). */
  names(): string[] {
    return [...new Set([...this.file.keys(), ...Object.keys(this.environment)])].sort();
  }

  has(name: string): boolean {
    return this.file.has(name) || Object.prototype.hasOwnProperty.call(this.environment, name);
  }

  /** `text` with every `{{name}}` replaced, values' own references included. */
  substitute(text: string): Substitution {
    return this.expand(text, []);
  }

  private raw(name: string): string | undefined {
    if (this.file.has(name)) return this.file.get(name);
    return Object.prototype.hasOwnProperty.call(this.environment, name) ? this.environment[name] : undefined;
  }

  private expand(text: string, path: readonly string[]): Substitution {
    let out = "";
    let last = 0;
    for (const match of text.matchAll(REFERENCE)) {
      const name = match[1] ?? "";
      const column = match.index;
      const value = this.raw(name);
      if (value === undefined) return { ok: false, message: `unknown variable {{${name}}}`, name, column };
      if (path.includes(name) || path.length >= MAX_DEPTH) {
        return { ok: false, message: `variable {{${name}}} refers to itself (${[...path, name].join(" → ")})`, name, column };
      }
      const inner = this.expand(value, [...path, name]);
      if (!inner.ok) return { ...inner, column };
      out += text.slice(last, column) + inner.text;
      last = column + match[0].length;
    }
    return { ok: true, text: out + text.slice(last) };
  }
}

/** True when `text` holds something that would be read as a variable reference. */
export function hasReference(text: string): boolean {
  return /\{\{\s*[A-Za-z_][\w.-]*\s*\}\}/.test(text);
}

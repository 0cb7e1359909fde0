/** One line for a `node:util` parseArgs error, in the words of `ztb <command>: ... (see ztb <command> --help)`. */
export function describeParseError(err: unknown): string {
  const code = typeof err === "object" && err !== null && "code" in err ? err.code : undefined;
  const message = err instanceof Error ? err.message : String(err);
  const quoted = /'([^']+)'/.exec(message)?.[1];
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && quoted !== undefined) return `unknown option ${quoted}`;
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && quoted !== undefined) {
    const option = quoted.replace(/ <value>$/, "");
    if (message.includes("argument missing")) return `option ${option} needs a value`;
    if (message.includes("ambiguous")) {
      const long = /'(--[a-z-]+)=-XYZ'/.exec(message)?.[1] ?? option;
      return `option ${option} needs a value (write ${long}=VALUE for a value starting with "-")`;
    }
    return `option ${option} takes no value`;
  }
  return message.split(". ")[0] ?? message;
}

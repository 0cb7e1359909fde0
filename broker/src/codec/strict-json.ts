/**
 * What JSON.parse lets through but ZTB/1 forbids in JSON sent to the broker (protocol/spec.md §JSON members):
 * every number the protocol defines is an integer written without fraction or exponent (`2000`, not `2000.0` or
 * `2e3`), and an object names each member once (JSON.parse would keep the last silently). Runs on text JSON.parse
 * already accepted, so it only has to tell tokens apart.
 */

/** A description of the first violation, or undefined. */
export function strictJsonViolation(text: string): string | undefined {
  const objects: { keys: Set<string>; expectKey: boolean }[] = [];
  const stack: ("object" | "array")[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    switch (ch) {
      case "{":
        stack.push("object");
        objects.push({ keys: new Set(), expectKey: true });
        break;
      case "}":
        stack.pop();
        objects.pop();
        break;
      case "[":
        stack.push("array");
        break;
      case "]":
        stack.pop();
        break;
      case ",": {
        const top = objects.at(-1);
        if (stack.at(-1) === "object" && top !== undefined) top.expectKey = true;
        break;
      }
      case ":": {
        const top = objects.at(-1);
        if (top !== undefined) top.expectKey = false;
        break;
      }
      case '"': {
        let end = i + 1;
        while (text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
        const top = objects.at(-1);
        if (stack.at(-1) === "object" && top?.expectKey === true) {
          const key = JSON.parse(text.slice(i, end + 1)) as string;
          if (top.keys.has(key)) return `member "${key}" appears twice`;
          top.keys.add(key);
        }
        i = end;
        break;
      }
      default:
        if (ch === "-" || (ch !== undefined && ch >= "0" && ch <= "9")) {
          let end = i;
          while (end < text.length && /[-+0-9.eE]/.test(text[end] ?? "")) end++;
          const number = text.slice(i, end);
          if (/[.eE]/.test(number)) return `${number} is not an integer written without fraction or exponent`;
          i = end - 1;
        }
    }
  }
  return undefined;
}

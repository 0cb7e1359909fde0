// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const FRAME_POSITION = "frame positions are read only in broker/src/codec: decode the message, or add a codec function";

export default tseslint.config(
  { ignores: ["out/**", "node_modules/**", "extension/dist/**", ".cache/**", "protocol/implementations/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // The sans-I/O core and the codec: no sockets, no clocks, no randomness (inputs carry them).
    files: ["broker/src/core/**/*.ts", "broker/src/codec/**/*.ts", "broker/src/protocol/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: ["zeromq", "vscode", "node:*", "fs", "net", "child_process", "better-sqlite3", "@nats-io/*"] }],
      "no-restricted-globals": ["error", "setTimeout", "setInterval", "setImmediate", "process"],
      "no-restricted-properties": [
        "error",
        { object: "Date", property: "now", message: "inject the clock" },
        { object: "Math", property: "random", message: "inject randomness" },
      ],
    },
  },
  {
    // Frame positions are read only in the codec (frames become typed messages there, and nowhere else): the rest
    // of the code sees typed messages or asks the codec (claimedCommand, isPlainFailure, onlyHop, ...).
    files: ["broker/src/**/*.ts", "extension/src/**/*.ts"],
    ignores: ["broker/src/codec/**"],
    rules: {
      "no-restricted-syntax": [
        "error",
        ...["frames", "path"].flatMap((name) => [
          { selector: `MemberExpression[computed=true][object.name="${name}"]`, message: FRAME_POSITION },
          { selector: `MemberExpression[computed=true][object.property.name="${name}"]`, message: FRAME_POSITION },
          { selector: `CallExpression[callee.property.name=/^(slice|at|subarray|splice)$/][callee.object.name="${name}"]`, message: FRAME_POSITION },
          { selector: `CallExpression[callee.property.name=/^(slice|at|subarray|splice)$/][callee.object.property.name="${name}"]`, message: FRAME_POSITION },
        ]),
      ],
    },
  },
  {
    files: ["**/*.mjs", "**/*.js"],
    languageOptions: { globals: { process: "readonly", console: "readonly" } },
  },
);

/** Child process of the core-cost case: one measurement in a fresh V8 (no JIT or heap state shared between sizes). */
import { measureCoreCost } from "./core-cost";

process.stdout.write(`${measureCoreCost(Number(process.argv[2]), 10_000, 10)}\n`);

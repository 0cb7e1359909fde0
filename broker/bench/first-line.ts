/** The first line a child process prints (its endpoint, or "ready"): how the benchmark knows a child is up. */
export function firstLine(stream: NodeJS.ReadableStream | null): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!stream) return reject(new Error("child has no stdout"));
    let buffered = "";
    const onData = (chunk: Buffer | string): void => {
      buffered += chunk.toString();
      const newline = buffered.indexOf("\n");
      if (newline >= 0) {
        stream.removeListener("data", onData);
        resolve(buffered.slice(0, newline).trim());
      }
    };
    stream.on("data", onData);
    stream.once("end", () => reject(new Error("child exited before printing its endpoint")));
  });
}

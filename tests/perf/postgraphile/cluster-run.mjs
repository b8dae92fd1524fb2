// Run a Node CLI server in N processes sharing one listening port (node:cluster).
// Usage: node cluster-run.mjs <workers> <path/to/cli.js> [cli args...]
// PostGraphile v5's CLI has no cluster option. The primary only forks (it restarts
// nothing: a worker that dies ends the benchmark's server); each worker loads the CLI
// with the remaining arguments. SIGTERM/SIGINT stop the workers, then the primary.
import cluster from "node:cluster";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [, , workersArg, cliPath, ...cliArgs] = process.argv;
const workers = Math.max(1, parseInt(workersArg ?? "1", 10));

if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on("exit", (worker, code, signal) => {
    console.error(`worker ${worker.process.pid} exited (${signal ?? code})`);
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(1);
  });
  const stop = () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
} else {
  // the CLI sees only its own arguments
  process.argv = [process.argv[0], path.resolve(cliPath), ...cliArgs];
  await import(pathToFileURL(path.resolve(cliPath)).href);
}

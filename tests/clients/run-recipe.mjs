// Run a recipe of docs/testing-clients.md under Node, with the npm `eventsource` package (a
// WHATWG EventSource) from streaming-frontend/node_modules, and print as JSON what it logged
// and every request it made, once it logged COUNT lines.
//   node run-recipe.mjs RECIPE_FILE BASE_URL COUNT [LET_THROUGH_AFTER]
// With LET_THROUGH_AFTER=n, requests after the first n lose their `faults=` parameter, as if
// the server had recovered.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const frontend = new URL("../../streaming-frontend/package.json", import.meta.url);
const { EventSource } = createRequire(frontend)("eventsource");

const [file, baseUrl, count, letThroughAfter] = process.argv.slice(2);
const code = readFileSync(file, "utf8").replaceAll("http://localhost:8000", baseUrl);
const started = performance.now();
const logged = [];
const requests = [];
let source;

function finish(status) {
  source?.close();
  const out = JSON.stringify({ logged, requests });
  (status === 0 ? process.stdout : process.stderr).write(out);
  process.exit(status);
}

function record(level, args) {
  const text = args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ");
  logged.push({ level, text, at: performance.now() - started });
  if (logged.filter((entry) => entry.level === "log").length >= Number(count)) finish(0);
}

async function trackedFetch(input, init) {
  let url = String(input instanceof Request ? input.url : input);
  if (letThroughAfter !== undefined && requests.length >= Number(letThroughAfter)) {
    const parsed = new URL(url);
    parsed.searchParams.delete("faults");
    url = parsed.toString();
  }
  const at = performance.now() - started;
  const response = await fetch(url, init);
  requests.push({ url, status: response.status, at });
  return response;
}

// Every request of the recipe goes through trackedFetch, its own fetch hook included.
class TrackedEventSource extends EventSource {
  constructor(url, init = {}) {
    super(url, { fetch: trackedFetch, ...init });
  }
}

const page = {
  log: (...args) => record("log", args),
  warn: (...args) => record("warn", args),
  error: (...args) => record("error", args),
};
// The recipe's top-level `const source` is returned so that the runner can close it.
source = new Function("EventSource", "console", "fetch", `${code}\nreturn source;`)(
  TrackedEventSource,
  page,
  trackedFetch,
);
setTimeout(() => finish(1), 20000);

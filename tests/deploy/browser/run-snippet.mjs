// Run a browser snippet from docs/integration.md under Node, with `eventsource` standing in
// for the browser's EventSource, and print what it logged as JSON once it logged `count` lines.
//   node run-snippet.mjs SNIPPET_FILE BASE_URL COUNT
import { readFileSync } from "node:fs";
import { EventSource } from "eventsource";

const [file, baseUrl, count] = process.argv.slice(2);
const code = readFileSync(file, "utf8").replaceAll("http://localhost:8000", baseUrl);
const logged = [];
let source;

function record(level, args) {
  logged.push({ level, text: args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ") });
  if (logged.filter((l) => l.level === "log").length >= Number(count)) {
    source.close();
    process.stdout.write(JSON.stringify(logged));
    process.exit(0);
  }
}

const page = {
  log: (...args) => record("log", args),
  warn: (...args) => record("warn", args),
  error: (...args) => record("error", args),
};
// The snippet's top-level `const source` is returned so the runner can close it.
source = new Function("EventSource", "console", `${code}\nreturn source;`)(EventSource, page);
setTimeout(() => {
  process.stderr.write(`timed out; logged so far: ${JSON.stringify(logged)}\n`);
  process.exit(1);
}, 15000);

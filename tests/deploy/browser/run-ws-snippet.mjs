// Run the browser WebSocket snippet of docs/integration.md under Node 20 with
// --experimental-websocket (the WHATWG WebSocket, as in browsers), and print what it
// logged as JSON once it logged `count` lines.
//   node --experimental-websocket run-ws-snippet.mjs SNIPPET_FILE BASE_URL COUNT
import { readFileSync } from "node:fs";

const [file, baseUrl, count] = process.argv.slice(2);
const wsBase = baseUrl.replace(/^http/, "ws");
const code = readFileSync(file, "utf8").replaceAll("ws://localhost:8000", wsBase);
const logged = [];
let currentSocket = () => undefined;

function record(level, args) {
  logged.push({ level, text: args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ") });
  if (logged.filter((l) => l.level === "log").length >= Number(count)) {
    currentSocket()?.close(1000);
    process.stdout.write(JSON.stringify(logged));
    process.exit(0);
  }
}

const page = {
  log: (...args) => record("log", args),
  warn: (...args) => record("warn", args),
  error: (...args) => record("error", args),
};
// The snippet's top-level `socket` is handed back so the runner can close it.
currentSocket = new Function("WebSocket", "console", `${code}\nreturn () => socket;`)(
  globalThis.WebSocket,
  page,
);
setTimeout(() => {
  process.stderr.write(`timed out; logged so far: ${JSON.stringify(logged)}\n`);
  process.exit(1);
}, 15000);

#!/usr/bin/env node
// A SignalR client built on the official @microsoft/signalr package, driven by tests.
//
//   node tests/clients/node_client.mjs <url> [--token T] [--skip-negotiation] [--name N] [--timeout S]
//        [--answer TARGET=JSON] [--hang TARGET] [--throw TARGET=MESSAGE] [--protocol json|messagepack]
//
// --protocol messagepack speaks the MessagePack hub protocol (@microsoft/signalr-protocol-msgpack).
//
// Client results: --answer registers connection.on(TARGET) returning JSON parsed (the client's
// result for a server's invocation with an invocationId); --hang a handler that never returns;
// --throw a handler that throws MESSAGE (the client answers with an error). Each may repeat.
// <url> is what an app passes to withUrl(): the facade's negotiate base (the client POSTs
// <url>/negotiate?negotiateVersion=1 and follows a {url, accessToken} redirect) or the
// service's client URL (http://127.0.0.1:8888/client/?hub=chat).
// Prints one JSON object per line on stdout:
//   {"event":"connected","connectionId":..,"name":..}
//   {"event":"message","target":..,"arguments":[..],"name":..}   (every target, no handler needed)
//   {"event":"closed","error":..,"name":..}
//   {"event":"error","error":..,"name":..}                       (start failed)
//   {"event":"invoked","id":..,"result":..,"name":..} | {"event":"invokeFailed","id":..,"error":..,"name":..}
// Reads JSON commands on stdin: {"cmd":"send","target":..,"arguments":[..]} |
//   {"cmd":"invoke","id":..,"target":..,"arguments":[..]} | {"cmd":"stop"}.
// Exits when stdin closes, on "stop", after --timeout seconds (default 120), or once closed.
import * as readline from "node:readline";
import signalR from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";

const args = process.argv.slice(2);
const options = { token: null, skipNegotiation: false, name: null, timeout: 120, answers: [], hangs: [], throws: [],
  protocol: "json" };
let url = null;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === "--token") options.token = args[++i];
  else if (a === "--skip-negotiation") options.skipNegotiation = true;
  else if (a === "--name") options.name = args[++i];
  else if (a === "--timeout") options.timeout = Number(args[++i]);
  else if (a === "--answer") options.answers.push(args[++i]);
  else if (a === "--hang") options.hangs.push(args[++i]);
  else if (a === "--throw") options.throws.push(args[++i]);
  else if (a === "--protocol") options.protocol = args[++i];
  else if (!url) url = a;
  else { console.error(`unexpected argument: ${a}`); process.exit(2); }
}
if (!url) { console.error("usage: node_client.mjs <url> [--token T] [...]"); process.exit(2); }

const emit = (event) => process.stdout.write(JSON.stringify({ ...event, name: options.name }) + "\n");

// Capture every invocation at the protocol layer, whatever its target.
const recording = (Base) => class extends Base {
  parseMessages(input, logger) {
    const messages = super.parseMessages(input, logger);
    for (const m of messages) {
      if (m.type === signalR.MessageType.Invocation) {
        emit({ event: "message", target: m.target, arguments: m.arguments });
      }
    }
    return messages;
  }
};
const RecordingProtocol = recording(options.protocol === "messagepack" ? MessagePackHubProtocol
  : signalR.JsonHubProtocol);

const stderrLogger = {
  log(level, message) {
    if (level >= signalR.LogLevel.Error) console.error(`[signalr] ${message}`);
  },
};

const httpOptions = { skipNegotiation: options.skipNegotiation };
if (options.skipNegotiation) httpOptions.transport = signalR.HttpTransportType.WebSockets;
if (options.token) httpOptions.accessTokenFactory = () => options.token;

const connection = new signalR.HubConnectionBuilder()
  .withUrl(url, httpOptions)
  .withHubProtocol(new RecordingProtocol())
  .configureLogging(stderrLogger)
  .build();

const split = (spec) => { const at = spec.indexOf("="); return [spec.slice(0, at), spec.slice(at + 1)]; };
for (const spec of options.answers) {
  const [target, json] = split(spec);
  const result = JSON.parse(json);
  connection.on(target, (...received) => { emit({ event: "answered", target, arguments: received }); return result; });
}
for (const target of options.hangs) {
  connection.on(target, () => new Promise(() => {}));
}
for (const spec of options.throws) {
  const [target, message] = split(spec);
  connection.on(target, () => { throw new Error(message); });
}

let exiting = false;
function exit(code) {
  if (exiting) return;
  exiting = true;
  // Let stdout drain before leaving.
  process.stdout.write("", () => process.exit(code));
}

connection.onclose((error) => {
  emit({ event: "closed", error: error ? String(error.message ?? error) : null });
  exit(0);
});

async function stop() {
  try { await connection.stop(); } catch { /* already closed */ }
  exit(0);
}

setTimeout(stop, options.timeout * 1000).unref();

const rl = readline.createInterface({ input: process.stdin });
rl.on("line", async (line) => {
  if (!line.trim()) return;
  let command;
  try { command = JSON.parse(line); } catch { console.error(`bad command: ${line}`); return; }
  if (command.cmd === "stop") await stop();
  else if (command.cmd === "send") {
    try { await connection.send(command.target, ...(command.arguments ?? [])); }
    catch (e) { console.error(`send failed: ${e}`); }
  }
  else if (command.cmd === "invoke") {
    try {
      const result = await connection.invoke(command.target, ...(command.arguments ?? []));
      emit({ event: "invoked", id: command.id, result: result === undefined ? null : result });
    } catch (e) { emit({ event: "invokeFailed", id: command.id, error: String(e?.message ?? e) }); }
  }
});
rl.on("close", stop);

try {
  await connection.start();
  emit({ event: "connected", connectionId: connection.connectionId });
} catch (e) {
  emit({ event: "error", error: String(e?.message ?? e) });
  exit(1);
}

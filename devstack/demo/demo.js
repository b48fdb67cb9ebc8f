// The demo chat: negotiate, sends and group changes go through the facade's API; "Chat (from
// the browser)" sends over the SignalR connection itself (connection.send), which the service
// hands to the facade's upstream receiver, the events queue and the sample backend, which
// broadcasts it back through the facade.
"use strict";

const HUB = "chat";
// The facade may live on another origin than the page (the stack serves the page on both; CORS
// with credentials lets the official client negotiate across origins).
const api = `${window.DEVSTACK.facadeUrl || location.origin}/api/v1/hubs/${HUB}`;
const $ = (id) => document.getElementById(id);
let token = null;
let connection = null;

function show(text, kind = "message", who = null) {
  const item = document.createElement("li");
  item.className = kind;
  if (who) {
    const name = document.createElement("span");
    name.className = "who";
    name.textContent = who;
    item.append(name);
  }
  item.append(document.createTextNode(text));
  $("messages").append(item);
  item.scrollIntoView({ block: "end" });
}

// Returns the parsed JSON answer (or true when there is none), false on failure.
async function facade(method, path, body) {
  const response = await fetch(api + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    show(`${method} ${path || "/"} failed: ${response.status} ${problem.detail || ""}`, "error");
    return false;
  }
  const type = response.headers.get("Content-Type") || "";
  return type.startsWith("application/json") ? response.json() : true;
}

async function signIn() {
  const user = $("user").value.trim();
  if (!user) return;
  const reply = await fetch(window.DEVSTACK.tokenUrl, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user }),
  });
  token = (await reply.json()).access_token;
  if (connection) await connection.stop();
  connection = new signalR.HubConnectionBuilder()
    .withUrl(api, { accessTokenFactory: () => token })
    .withAutomaticReconnect()
    .configureLogging(signalR.LogLevel.Warning)
    .build();
  connection.on("newMessage", (from, text) => show(text, "message", from));
  connection.onclose((error) => setConnected(false, error ? `closed: ${error.message}` : "closed"));
  await connection.start();
  setConnected(true, `connected as ${user} (${connection.connectionId})`);
}

function setConnected(connected, status) {
  $("status").textContent = status;
  for (const id of ["send-all", "send-chat", "send-user", "send-group", "join", "leave", "who", "kick"]) {
    $(id).disabled = !connected;
  }
}

const message = () => ({ target: "newMessage", arguments: [$("user").value.trim(), $("text").value] });
const segment = (id) => encodeURIComponent($(id).value.trim());

$("signin").onclick = () => signIn().catch((e) => show(`sign-in failed: ${e.message}`, "error"));
$("send-all").onclick = () => facade("POST", "", message());
$("send-chat").onclick = () => connection.send("chat", $("text").value)
  .catch((e) => show(`send failed: ${e.message}`, "error"));
$("send-user").onclick = () => facade("POST", `/users/${segment("to-user")}`, message());
$("send-group").onclick = () => facade("POST", `/groups/${segment("to-group")}`, message());
$("join").onclick = async () => {
  if (await facade("PUT", `/groups/${segment("group")}/connections/${encodeURIComponent(connection.connectionId)}`)) {
    show(`joined ${$("group").value}`, "system");
  }
};
$("leave").onclick = async () => {
  if (await facade("DELETE", `/groups/${segment("group")}/connections/${encodeURIComponent(connection.connectionId)}`)) {
    show(`left ${$("group").value}`, "system");
  }
};
$("text").addEventListener("keydown", (e) => { if (e.key === "Enter") $("send-all").click(); });
$("who").onclick = async () => {
  const answer = await facade("GET", `/groups/${segment("group")}/users`);
  if (!answer) return;
  const list = $("members");
  list.replaceChildren(...answer.users.map(({ userId, connections }) => {
    const item = document.createElement("li");
    item.textContent = `${userId} (${connections} connection${connections === 1 ? "" : "s"})`;
    return item;
  }));
  show(`${$("group").value}: ${answer.users.length} user(s), ${answer.connections} connection(s)`, "system");
};
$("kick").onclick = async () => {
  const user = $("kick-user").value.trim();
  const reason = encodeURIComponent(`kicked by ${$("user").value.trim()}`);
  if (await facade("POST", `/users/${segment("kick-user")}/:closeConnections?reason=${reason}`)) {
    show(`kicked ${user}`, "system");
  }
};

// The emulator's web page: watch and steer one org at a time, live from its event stream.
// Plain JavaScript, no library: every value is put in the page as text, never as HTML.

const TOKEN_KEY = "fastcall-emulator.admin-token";
const $ = (id) => document.getElementById(id);

const state = {
  org: "default",
  orgData: null,
  messages: new Map(),
  calls: new Map(),
  tasks: [],
  errors: [],
  optOuts: [],
  users: new Map(),
  statusLog: [],
  selected: null,
  token: sessionStorage.getItem(TOKEN_KEY) || "",
  stream: null,
};

// ---------------------------------------------------------------------------------- DOM

/** An element with attributes (`on*` are listeners) and children (strings become text). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.classList.add("shown");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => box.classList.remove("shown"), 4000);
}

const when = (date) => {
  if (!date) return "";
  const parsed = new Date(date.replace(/\+0000$/, "Z"));
  return Number.isNaN(parsed.getTime()) ? date : parsed.toLocaleString();
};
const time = (date) => {
  const parsed = new Date((date || "").replace(/\+0000$/, "Z"));
  return Number.isNaN(parsed.getTime()) ? "" : parsed.toLocaleTimeString();
};
const slug = (status) => String(status || "").toLowerCase().replace(/\s+/g, "-");
const badge = (status) => el("span", { class: `badge s-${slug(status)}` }, status);

// ---------------------------------------------------------------------------------- API

/** The org's routes: the root's for `default`, `/orgs/{name}` for any other. */
const base = () => (state.org === "default" ? "" : `/orgs/${encodeURIComponent(state.org)}`);

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** Calls the emulator; an admin route that needs the token asks for it, then retries. */
async function api(path, { method = "GET", body, headers = {}, admin = true, root = false } = {}) {
  const sent = { ...headers };
  if (body !== undefined) sent["Content-Type"] = "application/json";
  if (admin && state.token) sent.Authorization = `Bearer ${state.token}`;
  const response = await fetch((root ? "" : base()) + path, {
    method,
    headers: sent,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { message: text };
  }
  if (response.status === 401 && admin) {
    await askForToken(state.token ? "That token was refused." : "");
    return api(path, { method, body, headers, admin, root });
  }
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

const items = async (path) => (await api(path)).items;

/** Asks for the admin token once, however many requests were refused meanwhile. */
let asking = null;
function askForToken(problem) {
  if (asking) return asking;
  const dialog = $("token-dialog");
  $("token-error").textContent = problem;
  $("token").value = "";
  if (!dialog.open) dialog.showModal();
  asking = new Promise((resolve) => {
    $("token-form").onsubmit = () => {
      state.token = $("token").value.trim();
      sessionStorage.setItem(TOKEN_KEY, state.token);
      asking = null;
      resolve();
    };
  });
  return asking;
}

// ---------------------------------------------------------------------------------- loading

async function loadOrgs() {
  const select = $("org");
  let names = [state.org];
  try {
    const listed = await api("/orgs", { root: true });
    names = listed.items.map((org) => org.name);
    if (!names.includes(state.org)) state.org = names.includes("default") ? "default" : names[0];
  } catch (error) {
    toast(`Cannot list the orgs: ${error.message}`);
  }
  select.replaceChildren(...names.map((name) => el("option", { value: name, selected: name === state.org }, name)));
}

async function loadAll() {
  const [orgData, messages, calls, tasks, errors, optOuts, statusLog] = await Promise.all([
    api("/_emulator/org"),
    items("/_emulator/messages?limit=1000"),
    items("/_emulator/calls?limit=1000"),
    items("/_emulator/tasks?limit=1000"),
    items("/_emulator/voip-errors?limit=1000"),
    items("/_emulator/opt-outs?limit=1000"),
    items("/_emulator/status-log?limit=1000"),
  ]);
  state.orgData = orgData;
  state.messages = new Map(messages.map((m) => [m.id, m]));
  state.calls = new Map(calls.map((c) => [c.id, c]));
  Object.assign(state, { tasks, errors, optOuts, statusLog });
  const users = await Promise.all((orgData.users || []).map((u) => api(`/_emulator/users/${u.id}`).catch(() => null)));
  state.users = new Map(users.filter(Boolean).map((u) => [u.id, u]));
  renderAll();
}

/** Re-reads what events do not carry (Tasks, VoIP errors, opt-outs), once per burst. */
function refreshLists() {
  clearTimeout(refreshLists.timer);
  refreshLists.timer = setTimeout(async () => {
    try {
      [state.tasks, state.errors, state.optOuts] = await Promise.all([
        items("/_emulator/tasks?limit=1000"),
        items("/_emulator/voip-errors?limit=1000"),
        items("/_emulator/opt-outs?limit=1000"),
      ]);
      renderTasks();
      renderErrors();
      renderOptOuts();
      renderThreads();
      renderThread();
    } catch (error) {
      toast(error.message);
    }
  }, 300);
}

// ---------------------------------------------------------------------------------- live events

/** Reads the org's event stream (fetch, so that the admin token can go in a header) and
 * reconnects after the last event it saw. */
async function follow() {
  const stream = { stopped: false, controller: new AbortController(), last: null };
  if (state.stream) stopFollowing();
  state.stream = stream;
  while (!stream.stopped) {
    try {
      const headers = state.token ? { Authorization: `Bearer ${state.token}` } : {};
      if (stream.last) headers["Last-Event-ID"] = stream.last;
      const response = await fetch(`${base()}/_emulator/events`, { headers, signal: stream.controller.signal });
      if (response.status === 401) {
        await askForToken(state.token ? "That token was refused." : "");
        continue;
      }
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      setLive(true);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r/g, "");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = parseEvent(block);
          if (event) {
            stream.last = event.id || stream.last;
            onEvent(event);
          }
        }
      }
    } catch (error) {
      if (stream.stopped) return;
    }
    setLive(false);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function stopFollowing() {
  if (!state.stream) return;
  state.stream.stopped = true;
  state.stream.controller.abort();
  state.stream = null;
}

function parseEvent(block) {
  const event = { id: null, type: "message", data: "" };
  let any = false;
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id") event.id = value;
    else if (field === "event") event.type = value;
    else if (field === "data") event.data += (event.data ? "\n" : "") + value;
    any = true;
  }
  if (!any) return null;
  try {
    event.payload = event.data ? JSON.parse(event.data) : {};
  } catch {
    return null;
  }
  return event;
}

function setLive(on) {
  const live = $("live");
  live.textContent = on ? "live" : "reconnecting…";
  live.classList.toggle("on", on);
}

function onEvent({ type, payload }) {
  if (type.startsWith("sms.")) {
    state.messages.set(payload.id, payload);
    renderThreads();
    renderThread();
    refreshDetail(payload.id);
    refreshLists();
  } else if (type.startsWith("call.")) {
    state.calls.set(payload.id, payload);
    renderCalls();
    refreshDetail(payload.id);
    refreshLists();
  } else if (type === "user_status.changed") {
    state.statusLog.unshift(payload);
    api(`/_emulator/users/${payload.userId}`)
      .then((user) => {
        state.users.set(user.id, user);
        renderUsers();
      })
      .catch(() => {});
    renderUsers();
  } else if (type === "org.replaced") {
    loadAll().catch((error) => toast(error.message));
  } else if (type === "org.deleted") {
    toast(`The org ${state.org} was deleted.`);
    switchOrg("default");
  }
}

// ---------------------------------------------------------------------------------- conversations

/** The org's side and the customer's side of a message. */
function sides(message) {
  return message.direction === "Inbound"
    ? { ours: message.toPhone, theirs: message.fromPhone }
    : { ours: message.fromPhone, theirs: message.toPhone };
}

function conversations() {
  const byKey = new Map();
  for (const message of state.messages.values()) {
    const { ours, theirs } = sides(message);
    const key = `${ours} ${theirs}`;
    const entry = byKey.get(key) || { key, ours, theirs, messages: [] };
    entry.messages.push(message);
    byKey.set(key, entry);
  }
  for (const entry of byKey.values()) {
    entry.messages.sort((a, b) => (a.createdDate < b.createdDate ? -1 : a.createdDate > b.createdDate ? 1 : 0));
    entry.last = entry.messages[entry.messages.length - 1];
  }
  return [...byKey.values()].sort((a, b) => (a.last.createdDate < b.last.createdDate ? 1 : -1));
}

function lineName(number) {
  const line = (state.orgData?.phoneNumbers || []).find((p) => p.number === number);
  return line ? line.name || number : number;
}

const optedOut = (ours, theirs) => state.optOuts.some((o) => o.toPhone === ours && o.fromPhone === theirs);

function renderThreads() {
  const list = $("threads");
  const query = $("search").value.trim().toLowerCase();
  const shown = conversations().filter(
    (c) => !query || c.theirs.includes(query) || c.ours.includes(query) || c.messages.some((m) => m.body.toLowerCase().includes(query)),
  );
  if (!shown.length) {
    list.replaceChildren(
      el("li", { class: "empty" }, query ? "No conversation matches." : emptyMessages()),
    );
    return;
  }
  list.replaceChildren(
    ...shown.map((c) =>
      el(
        "li",
        {},
        el(
          "button",
          {
            type: "button",
            class: "thread-item",
            "aria-current": state.selected === c.key ? "true" : null,
            onclick: () => {
              state.selected = c.key;
              renderThreads();
              renderThread();
              // On a narrow screen the conversation is below the list.
              if (window.matchMedia("(max-width: 760px)").matches) $("thread").scrollIntoView({ block: "start" });
            },
          },
          el("span", { class: "who" }, c.theirs, optedOut(c.ours, c.theirs) ? el("span", { class: "badge s-opted-out" }, "opted out") : null),
          el("span", { class: "line" }, `with ${lineName(c.ours)}`),
          el("span", { class: "snippet" }, `${c.last.direction === "Inbound" ? "↙ " : "↗ "}${c.last.body}`),
          el("span", { class: "meta" }, badge(c.last.status), ` ${time(c.last.createdDate)} · ${c.messages.length}`),
        ),
      ),
    ),
  );
}

function emptyMessages() {
  const origin = window.location.origin + base();
  return el(
    "span",
    {},
    el("strong", {}, `No messages in the org ${state.org} yet.`),
    " Send one with the form above, or from a terminal:",
    el("code", { class: "block" }, `curl -s ${origin}/actions/SubscriberSMSInvocable -H 'Content-Type: application/json' -d '{"toPhone": "+14155550123", "bodyText": "Hello"}'`),
  );
}

/** The selected conversation: its forms are built once, so that what a person types (and an
 * error shown) stays while events update the messages above them. */
function renderThread() {
  const pane = $("thread");
  const conversation = conversations().find((c) => c.key === state.selected);
  if (!conversation) {
    delete pane.dataset.key;
    pane.replaceChildren(el("p", { class: "empty" }, "Pick a conversation to see its messages, reply as the customer, or text STOP."));
    return;
  }
  const { ours, theirs } = conversation;
  if (pane.dataset.key !== conversation.key) {
    pane.dataset.key = conversation.key;
    pane.replaceChildren(
      el("h2", {}, theirs, " ", el("span", { class: "sub" }, `with ${lineName(ours)} (${ours})`)),
      el("div", { class: "thread-notice" }),
      el("ol", { class: "bubbles", "aria-label": `Messages between ${ours} and ${theirs}` }),
      el(
        "form",
        { class: "inline-form", onsubmit: (event) => sendInThread(event, ours, theirs) },
        el("label", {}, el("span", { class: "label" }, `Send from ${lineName(ours)} as`), userSelect("user")),
        el("label", {}, el("span", { class: "label" }, "Message"), el("input", { name: "body", required: true, placeholder: "Message to send" })),
        el("button", { type: "submit" }, "Send"),
        el("p", { class: "form-error", role: "alert" }),
      ),
      el(
        "form",
        { class: "inline-form", onsubmit: (event) => replyAsCustomer(event, ours, theirs) },
        el("label", {}, el("span", { class: "label" }, `Reply as ${theirs}`), el("input", { name: "body", required: true, placeholder: "Reply, or STOP / START / HELP" })),
        el("button", { type: "submit" }, "Reply as the customer"),
      ),
    );
  }
  pane.querySelector(".thread-notice").replaceChildren(
    optedOut(ours, theirs) ? el("p", { class: "notice" }, `${theirs} opted out of ${ours}: messages from it are refused (21610) until they text START.`) : "",
  );
  const log = pane.querySelector(".bubbles");
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  log.replaceChildren(
    ...conversation.messages.map((m) =>
      el(
        "li",
        { class: `bubble ${m.direction === "Inbound" ? "in" : "out"}` },
        el(
          "button",
          { type: "button", class: "bubble-body", onclick: () => showDetail("message", m.id), "aria-label": `Message: ${m.body}. ${m.status}. Details` },
          m.body || "(media only)",
          m.mediaURL ? el("span", { class: "media" }, `📎 ${m.mediaURL}`) : null,
        ),
        el(
          "span",
          { class: "meta" },
          badge(m.status),
          ` ${time(m.createdDate)} · ${m.encoding} · ${m.numSegments} segment${m.numSegments === 1 ? "" : "s"}`,
          m.errorCode ? el("span", { class: "error-code" }, ` · error ${m.errorCode}`) : null,
        ),
      ),
    ),
  );
  if (atBottom) log.scrollTop = log.scrollHeight;
}

function userSelect(name) {
  const users = (state.orgData?.users || []).filter((u) => u.fastcallUser !== false);
  const preferred = state.orgData?.settings?.defaultUserId;
  return el(
    "select",
    { name },
    users.map((u) => el("option", { value: u.id, selected: u.id === preferred }, u.name)),
  );
}

/** What each APIException code means for the person sending. */
const EXPLAINED = {
  100: "The VoIP provider refused the message (its error code is in the message); a Failed record and a VoIP error log entry were kept.",
  101: "The message has no body: type one, or use a template.",
  103: "No caller ID: the user has no SMS-capable number, or the From number is not one of theirs.",
  104: "An input does not fit: check the number and the user.",
  105: "The org cannot do this: SMS is disabled in its settings.",
};

async function sendSms({ to, from, user, body }) {
  const input = { toPhone: to, bodyText: body };
  if (from) input.fromPhone = from;
  return api("/actions/SubscriberSMSInvocable", { method: "POST", body: input, headers: { "X-Fastcall-User-Id": user }, admin: false });
}

function explain(error) {
  const body = error.body || {};
  if (typeof body.errorCode === "number") {
    return `Error ${body.errorCode}: ${body.message} ${EXPLAINED[body.errorCode] || ""}`;
  }
  if (error.status === 401) return `${body.message || "Refused"}: this org has API keys, which the page does not hold.`;
  return body.message || error.message;
}

async function sendInThread(event, ours, theirs) {
  event.preventDefault();
  const form = event.target;
  const problem = form.querySelector(".form-error");
  problem.textContent = "";
  try {
    await sendSms({ to: theirs, from: ours, user: form.user.value, body: form.body.value });
    form.body.value = "";
  } catch (error) {
    problem.textContent = explain(error);
  }
}

async function replyAsCustomer(event, ours, theirs) {
  event.preventDefault();
  const form = event.target;
  try {
    const received = await api("/_emulator/inbound", { method: "POST", body: { from: theirs, to: ours, body: form.body.value } });
    form.body.value = "";
    if (received.keyword) toast(`${received.keyword}: ${received.reply ? received.reply.body : ""}`);
  } catch (error) {
    toast(explain(error));
  }
}

async function compose(event) {
  event.preventDefault();
  const problem = $("compose-error");
  problem.textContent = "";
  try {
    const sent = await sendSms({ to: $("compose-to").value, user: $("compose-user").value, body: $("compose-body").value });
    $("compose-body").value = "";
    const stored = await api(`/_emulator/messages/${sent.id}`);
    state.messages.set(stored.id, stored);
    state.selected = Object.values(sides(stored)).join(" ");
    renderThreads();
    renderThread();
  } catch (error) {
    problem.textContent = explain(error);
  }
}

// ---------------------------------------------------------------------------------- tables

function table(id, columns, rows, empty, filterKey) {
  const query = filterKey ? (document.querySelector(`[data-filter="${filterKey}"]`)?.value || "").trim().toLowerCase() : "";
  const shown = query ? rows.filter((row) => columns.some((c) => String(c.text(row) ?? "").toLowerCase().includes(query))) : rows;
  const wrap = $(id);
  if (!shown.length) {
    wrap.replaceChildren(el("p", { class: "empty" }, query ? "Nothing matches." : empty));
    return;
  }
  wrap.replaceChildren(
    el(
      "table",
      {},
      el("thead", {}, el("tr", {}, columns.map((c) => el("th", { scope: "col" }, c.title)))),
      el("tbody", {}, shown.map((row) => el("tr", {}, columns.map((c) => el("td", { "data-title": c.title }, c.cell ? c.cell(row) : c.text(row) ?? ""))))),
    ),
  );
}

const userName = (id) => (state.orgData?.users || []).find((u) => u.id === id)?.name || id || "";
const ivrName = (id) => (state.orgData?.ivrs || []).find((i) => i.id === id)?.name || id;

const CALL_MOVES = ["Ringing", "In Progress", "Completed", "Busy", "No Answer", "Failed", "Canceled"];
const MESSAGE_MOVES = ["Sending", "Sent", "Delivered", "Undelivered", "Failed"];

function timeline(history) {
  return el("ol", { class: "timeline" }, (history || []).map((step) => el("li", {}, badge(step.status), el("span", { class: "sub" }, ` ${time(step.date)}`))));
}

function renderCalls() {
  const calls = [...state.calls.values()].sort((a, b) => (a.startTime < b.startTime ? 1 : -1));
  table(
    "calls",
    [
      { title: "To", text: (c) => c.toPhone },
      { title: "From", text: (c) => c.fromPhone },
      { title: "IVR", text: (c) => ivrName(c.ivr) },
      { title: "User", text: (c) => userName(c.userId) },
      { title: "Status", text: (c) => c.status, cell: (c) => timeline(c.statusHistory) },
      { title: "", text: () => "", cell: (c) => el("button", { type: "button", class: "quiet", onclick: () => showDetail("call", c.id) }, "Details") },
    ],
    calls,
    emptyFor("calls", `curl -s ${window.location.origin + base()}/actions/SubscriberCallInvocable -H 'Content-Type: application/json' -d '{"toPhone": "+14155550123", "ivrId": "${state.orgData?.ivrs?.[0]?.id || "IVR_ID"}"}'`),
    "calls",
  );
}

function emptyFor(what, command) {
  return el("span", {}, el("strong", {}, `No ${what} in the org ${state.org} yet.`), " Start one from a terminal:", el("code", { class: "block" }, command));
}

function renderTasks() {
  table(
    "tasks",
    [
      { title: "Subject", text: (t) => t.subject },
      { title: "Owner", text: (t) => userName(t.ownerId) },
      { title: "About", text: (t) => t.whoId || t.whatId || "" },
      { title: "Type", text: (t) => t.taskSubtype },
      { title: "Status", text: (t) => t.status, cell: (t) => badge(t.status) },
      { title: "Created", text: (t) => when(t.createdDate) },
    ],
    state.tasks,
    "No Tasks yet: an SMS about a record, or any call, logs one.",
    "tasks",
  );
}

function renderUsers() {
  const users = (state.orgData?.users || []).map((u) => state.users.get(u.id) || { ...u, statusType: "" });
  table(
    "users",
    [
      { title: "User", text: (u) => u.name },
      { title: "Fastcall user", text: (u) => (u.fastcallUser === false ? "no" : "yes") },
      { title: "Status", text: (u) => u.userStatusName || u.statusType, cell: (u) => badge(u.userStatusName || u.statusType || "unknown") },
      { title: "Since", text: (u) => (u.changedDate ? when(u.changedDate) : "the org's status") },
    ],
    users,
    "The org has no users: load org data with users.",
  );
  table(
    "status-log",
    [
      { title: "User", text: (e) => userName(e.userId) },
      { title: "From", text: (e) => e.fromStatusType },
      { title: "To", text: (e) => e.toStatusType, cell: (e) => badge(e.toStatusType) },
      { title: "When", text: (e) => when(e.changedDate) },
    ],
    state.statusLog,
    "No status changes yet: SubscriberUserStatusInvocable logs each one.",
  );
}

function renderErrors() {
  table(
    "errors",
    [
      { title: "Code", text: (e) => e.errorCode },
      { title: "Message", text: (e) => e.errorMessage },
      { title: "To", text: (e) => e.toPhone },
      { title: "From", text: (e) => e.fromPhone },
      { title: "Record", text: (e) => `${e.recordType} ${e.recordId}` },
      { title: "When", text: (e) => when(e.createdDate) },
    ],
    state.errors,
    "No VoIP errors. Twilio's test number +15005550001 is refused on purpose, to see one.",
    "errors",
  );
}

function renderOptOuts() {
  table(
    "optouts",
    [
      { title: "Customer", text: (o) => o.fromPhone },
      { title: "Opted out of", text: (o) => `${lineName(o.toPhone)} (${o.toPhone})` },
      { title: "Since", text: (o) => when(o.since) },
    ],
    state.optOuts,
    "Nobody opted out. A customer who texts STOP to one of the org's numbers is listed here.",
  );
}

function renderOrg() {
  $("org-data").textContent = JSON.stringify(state.orgData, null, 2);
  const select = $("compose-user");
  const chosen = select.value || state.orgData?.settings?.defaultUserId;
  select.replaceChildren(...userSelect("user").options);
  select.value = chosen || "";
  if (select.selectedIndex < 0 && select.options.length) select.selectedIndex = 0;
}

function renderAll() {
  renderOrg();
  renderThreads();
  renderThread();
  renderCalls();
  renderTasks();
  renderUsers();
  renderErrors();
  renderOptOuts();
}

// ---------------------------------------------------------------------------------- detail

let detailShown = null;

function showDetail(kind, id) {
  detailShown = { kind, id };
  renderDetail();
  const dialog = $("detail");
  if (!dialog.open) dialog.showModal();
}

function refreshDetail(id) {
  if (detailShown && detailShown.id === id && $("detail").open) renderDetail();
}

function renderDetail() {
  const { kind, id } = detailShown;
  const record = kind === "message" ? state.messages.get(id) : state.calls.get(id);
  if (!record) return;
  $("detail-title").textContent = kind === "message" ? `${record.direction} message` : "Call";
  const fields = Object.entries(record).filter(([key]) => key !== "statusHistory");
  const moves = kind === "message" ? MESSAGE_MOVES : CALL_MOVES;
  const move = el(
    "form",
    { class: "inline-form", onsubmit: (event) => moveRecord(event, kind, id) },
    el("label", {}, el("span", { class: "label" }, "Move to (as the provider would report)"), el("select", { name: "status" }, moves.map((s) => el("option", { value: s }, s)))),
    el("button", { type: "submit" }, "Move"),
    el("p", { class: "form-error", role: "alert" }),
  );
  $("detail-body").dataset.id = id;
  $("detail-body").replaceChildren(
    el("h3", {}, "Status history"),
    timeline(record.statusHistory),
    record.direction === "Inbound" ? null : move,
    el("dl", { class: "fields" }, fields.map(([key, value]) => [el("dt", {}, key), el("dd", {}, value === null ? "—" : String(value))])),
  );
}

async function moveRecord(event, kind, id) {
  event.preventDefault();
  const form = event.target;
  const problem = form.querySelector(".form-error");
  problem.textContent = "";
  const path = kind === "message" ? "messages" : "calls";
  try {
    const moved = await api(`/_emulator/${path}/${id}/status`, { method: "POST", body: { status: form.status.value } });
    (kind === "message" ? state.messages : state.calls).set(moved.id, moved);
    renderDetail();
    renderThread();
    renderCalls();
  } catch (error) {
    problem.textContent = explain(error);
  }
}

// ---------------------------------------------------------------------------------- navigation

function selectTab(tab) {
  for (const button of document.querySelectorAll('[role="tab"]')) {
    const on = button === tab;
    button.setAttribute("aria-selected", String(on));
    button.tabIndex = on ? 0 : -1;
    $(button.getAttribute("aria-controls")).hidden = !on;
  }
}

async function switchOrg(name) {
  state.org = name;
  state.selected = null;
  const url = new URL(window.location.href);
  url.hash = name === "default" ? "" : `org=${encodeURIComponent(name)}`;
  history.replaceState(null, "", url);
  $("org").value = name;
  try {
    await loadAll();
  } catch (error) {
    toast(error.message);
  }
  follow();
}

async function resetOrg() {
  if (!confirm(`Forget everything the org ${state.org} did (messages, calls, Tasks, statuses, opt-outs, events)? Its data stays.`)) return;
  try {
    await api("/_emulator/reset", { method: "POST" });
    await loadAll();
    toast(`The org ${state.org} was reset.`);
  } catch (error) {
    toast(explain(error));
  }
}

function start() {
  const fromPath = window.location.pathname.match(/^\/orgs\/([^/]+)\//);
  const fromHash = window.location.hash.match(/org=([^&]+)/);
  state.org = decodeURIComponent((fromHash || fromPath || [null, "default"])[1]);
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  for (const tab of tabs) {
    tab.addEventListener("click", () => selectTab(tab));
    tab.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      const next = tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length];
      next.focus();
      selectTab(next);
    });
  }
  selectTab(tabs[0]);
  $("org").addEventListener("change", (event) => switchOrg(event.target.value));
  $("reset").addEventListener("click", resetOrg);
  $("compose").addEventListener("submit", compose);
  $("search").addEventListener("input", renderThreads);
  for (const input of document.querySelectorAll("[data-filter]")) {
    input.addEventListener("input", () => ({ calls: renderCalls, tasks: renderTasks, errors: renderErrors })[input.dataset.filter]());
  }
  loadOrgs().then(() => switchOrg(state.org));
}

start();

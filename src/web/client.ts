/**
 * The page's script, inlined as text: hover tooltips for every element with
 * data-tip and, on a live page, the server-sent-event stream and the command
 * buttons. It only ever sets textContent or HTML the server rendered (and
 * escaped); no firmware string is turned into markup here.
 */
export const CLIENT_JS = `(() => {
  const tip = document.getElementById("tip");
  document.addEventListener("mousemove", (ev) => {
    const el = ev.target instanceof Element ? ev.target.closest("[data-tip]") : null;
    if (!el) { tip.style.display = "none"; return; }
    tip.textContent = el.getAttribute("data-tip");
    tip.style.display = "block";
    const x = Math.min(ev.clientX + 14, window.innerWidth - tip.offsetWidth - 4);
    const y = Math.min(ev.clientY + 14, window.innerHeight - tip.offsetHeight - 4);
    tip.style.left = Math.max(0, x) + "px";
    tip.style.top = Math.max(0, y) + "px";
  });
  if (document.body.dataset.live !== "1") return;
  const token = document.body.dataset.token;
  const status = document.getElementById("cmd-status");
  const setHtml = (id, html) => { const el = document.getElementById(id); if (el && html !== undefined) el.innerHTML = html; };
  const log = document.getElementById("live-events");
  let received = 0;
  const es = new EventSource("/events");
  es.addEventListener("snapshot", (m) => {
    const s = JSON.parse(m.data);
    for (const [id, html] of Object.entries(s.html)) setHtml(id, html);
    document.body.dataset.state = s.state;
    document.getElementById("rproc-data").textContent = JSON.stringify(s.data);
    document.body.dataset.snapshots = String(Number(document.body.dataset.snapshots || 0) + 1);
  });
  es.addEventListener("event", (m) => {
    const s = JSON.parse(m.data);
    received += s.rows.length;
    log.insertAdjacentHTML("beforeend", s.rows.join(""));
    while (log.childElementCount > 500) log.firstElementChild.remove();
    log.scrollTop = log.scrollHeight;
    document.body.dataset.events = String(received);
    document.body.dataset.lastSeq = String(s.lastSeq);
  });
  es.addEventListener("open", () => { document.body.dataset.connected = "1"; });
  document.addEventListener("click", async (ev) => {
    const b = ev.target instanceof Element ? ev.target.closest("button[data-cmd]") : null;
    if (!b) return;
    const body = { cmd: b.dataset.cmd };
    if (b.dataset.arg !== undefined) body.arg = b.dataset.arg;
    if (b.dataset.input) body.arg = document.getElementById(b.dataset.input).value;
    status.textContent = body.cmd + "…";
    try {
      const r = await fetch("/api/cmd", { method: "POST", headers: { "content-type": "application/json", "x-rproc-token": token }, body: JSON.stringify(body) });
      const j = await r.json();
      status.textContent = j.ok ? body.cmd + ": ok" : body.cmd + ": " + (j.error ? j.error.code + ": " + j.error.message : "failed");
    } catch (e) { status.textContent = body.cmd + ": " + e; }
  });
})();`;

// Bench 1 peer: the same DashScope protocol work written plainly with Node's fetch + Promise.all.
// usage: node node_peer.mjs BASE_URL MEDIA_URL N CONCURRENCY -> "cpu=<s> wall=<s> ok=<n> polls=<n>"
const [base, mediaUrl, nStr, concStr] = process.argv.slice(2);
const n = Number(nStr), conc = Number(concStr);
const key = "sk-sim-valid-key-0001";
const auth = { Authorization: `Bearer ${key}` };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let polls = 0;

// Same poll schedule as the Lua client (poll_first 0.01 s, then 10 % of the time waited, +-10 %).
function interval(elapsed) {
  const d = Math.min(Math.max(0.01, elapsed * 0.1), 30);
  return d * (0.9 + 0.2 * Math.random());
}

function normalize(doc) {
  const t = doc.transcripts[0];
  const segments = t.sentences.map((s) => ({
    start: s.begin_time / 1000, end: s.end_time / 1000, text: s.text, speaker: s.speaker_id,
    words: (s.words || []).map((w) => ({ start: w.begin_time / 1000, end: w.end_time / 1000,
      text: w.text + (w.punctuation || "") })),
  }));
  return { text: t.text, segments, duration: doc.properties.original_duration_in_milliseconds / 1000 };
}

async function one() {
  let r = await fetch(`${base}/services/audio/asr/transcription`, {
    method: "POST",
    headers: { ...auth, "X-DashScope-Async": "enable", "Content-Type": "application/json" },
    body: JSON.stringify({ model: "paraformer-v2", input: { file_urls: [mediaUrl] }, parameters: {} }),
  });
  const sub = await r.json();
  const id = sub.output.task_id;
  const t0 = performance.now();
  while (true) {
    polls++;
    r = await fetch(`${base}/tasks/${id}`, { headers: auth });
    const st = await r.json();
    const s = st.output.task_status;
    if (s === "SUCCEEDED") {
      const res = await fetch(st.output.results[0].transcription_url);
      return normalize(await res.json());
    }
    if (s === "FAILED" || s === "CANCELED" || s === "UNKNOWN") throw new Error(`task ${id}: ${s}`);
    await sleep(interval((performance.now() - t0) / 1000) * 1000);
  }
}

const c0 = process.cpuUsage(), t0 = performance.now();
let next = 0, ok = 0;
async function worker() {
  while (next < n) {
    next++;
    const res = await one();
    if (res.segments.length > 0) ok++;
  }
}
await Promise.all(Array.from({ length: Math.min(conc, n) }, worker));
const c1 = process.cpuUsage(c0), wall = (performance.now() - t0) / 1000;
console.log(`cpu=${((c1.user + c1.system) / 1e6).toFixed(2)} wall=${wall.toFixed(3)} ok=${ok} polls=${polls}`);

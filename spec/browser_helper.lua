-- A real headless browser for the specs: Debian's `chromium` (installed by `make deps`) opens a
-- local file or a loopback URL, runs its scripts, and gives back the DOM after them, a PNG of the
-- page, and every console message. Each call uses a fresh profile in a temporary folder, and every
-- host name resolves to nothing (`--host-resolver-rules`), so a page that reaches out to the
-- network fails there instead of silently depending on it.
local H = require "spec.helper"

local B = {}

local BIN
for _, p in ipairs({ "/usr/bin/chromium", "/usr/bin/chromium-browser" }) do
  local f = io.open(p, "rb")
  if f then f:close(); BIN = p; break end
end

--- true when a browser is installed (specs mark themselves pending otherwise).
function B.available() return BIN ~= nil end

--- B.open(target, opts) -> {
--    dom = "<html>...</html>" (when opts.dom),
--    png = path (when opts.screenshot = path),
--    console = { { level = "INFO" | "WARNING" | "ERROR" ..., text = "...", source = "..." } },
--    errors = the console messages of level ERROR or above, plus uncaught exceptions,
--    log = chromium's stderr }
-- target: an absolute path (opened as file://) or a URL. opts: width, height (default 1280x900),
-- budget_ms (virtual time the page gets to run its scripts and timers, default 3000),
-- allow_hosts (true: no host resolver rule, for loopback URLs by name), flags (extra arguments).
function B.open(target, opts)
  opts = opts or {}
  assert(BIN, "no chromium: run make deps")
  local url = target:match("^%a[%w+.-]*://") and target or ("file://" .. target)
  local tmp = H.tmpdir()
  local args = {
    BIN, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--mute-audio", "--hide-scrollbars",
    "--autoplay-policy=no-user-gesture-required",
    "--user-data-dir=" .. tmp .. "/profile", "--enable-logging=stderr", "--v=0",
    "--window-size=" .. (opts.width or 1280) .. "," .. (opts.height or 900),
    "--virtual-time-budget=" .. (opts.budget_ms or 3000),
  }
  if not opts.allow_hosts then args[#args + 1] = "--host-resolver-rules=MAP * ~NOTFOUND" end
  for _, f in ipairs(opts.flags or {}) do args[#args + 1] = f end
  if opts.screenshot then args[#args + 1] = "--screenshot=" .. opts.screenshot end
  if opts.dom then args[#args + 1] = "--dump-dom" end
  args[#args + 1] = url
  local quoted = {}
  for i, a in ipairs(args) do quoted[i] = H.sh_quote(a) end
  local cmd = "cd " .. H.sh_quote(tmp) .. " && timeout 60 " .. table.concat(quoted, " ")
    .. " 2>" .. H.sh_quote(tmp .. "/stderr")
  local p = assert(H.popen(cmd))
  local dom = p:read("*a")
  p:close()
  local log = H.read(tmp .. "/stderr") or ""
  local out = { dom = opts.dom and dom or nil, png = opts.screenshot, console = {}, errors = {}, log = log }
  -- [pid:tid:date/time:LEVEL:CONSOLE(line)] "message", source: url (line)
  for level, text, source in log:gmatch("%[[^%]]-:(%u+):CONSOLE[^%]]*%]%s*\"(.-)\", source: ([^\n]*)") do
    local m = { level = level, text = text, source = source }
    out.console[#out.console + 1] = m
    if level == "ERROR" or level == "FATAL" then out.errors[#out.errors + 1] = m end
  end
  for line in log:gmatch("[^\n]*Uncaught[^\n]*") do out.errors[#out.errors + 1] = { level = "ERROR", text = line } end
  os.execute("rm -rf " .. H.sh_quote(tmp))
  return out
end

-- Put first in a page's <head> by B.probe: records console errors and warnings, uncaught
-- exceptions, resources that failed to load, Content-Security-Policy violations and every
-- resource the page fetched, and writes them as JSON into <pre id="__probe"> after load.
local PROBE = [[<script>(function(){var P={errors:[],resources:[]};
["error","warn"].forEach(function(l){var o=console[l];console[l]=function(){
P.errors.push(l+": "+Array.prototype.join.call(arguments," "));return o.apply(console,arguments);};});
window.addEventListener("error",function(e){var t=e.target;P.errors.push(t&&t!==window&&(t.src||t.href)
?"failed to load "+(t.src||t.href):"uncaught: "+e.message);},true);
document.addEventListener("securitypolicyviolation",function(e){
P.errors.push("csp: "+e.violatedDirective+" "+e.blockedURI);});
window.addEventListener("load",function(){setTimeout(function(){P.resources=performance.getEntriesByType("resource")
.map(function(r){return r.name;});var pre=document.createElement("pre");pre.id="__probe";
pre.textContent=JSON.stringify(P);document.body.appendChild(pre);},50);});})();</script>]]

--- B.probe(path, opts) -> B.open's answer for a copy of the HTML file at `path` with the probe
-- script first in its <head>, plus `probe = { errors = { "..." }, resources = { url, ... } }`
-- (nil when the page never finished loading). The copy sits beside the original, so relative
-- references resolve the same way.
function B.probe(path, opts)
  local html = assert(H.read(path), "cannot read " .. path)
  local copy = path:gsub("%.html?$", "") .. ".probe.html"
  local with, n = html:gsub("(<head[^>]*>)", "%1" .. PROBE:gsub("%%", "%%%%"), 1)
  if n == 0 then with = PROBE .. html end
  H.write(copy, with)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.dom = true
  local out = B.open(copy, o)
  os.remove(copy)
  local raw = out.dom and out.dom:match('<pre id="__probe">(.-)</pre>')
  if raw then
    raw = raw:gsub("&lt;", "<"):gsub("&gt;", ">"):gsub("&quot;", '"'):gsub("&amp;", "&")
    out.probe = H.json(raw)
  end
  return out
end

--- Width and height of a PNG file (from its IHDR chunk), or nil.
function B.png_size(path)
  local s = H.read(path)
  if not s or #s < 24 or s:sub(1, 8) ~= "\137PNG\r\n\26\n" then return nil end
  local function u32(i) local a, b, c, d = s:byte(i, i + 3); return ((a * 256 + b) * 256 + c) * 256 + d end
  return u32(17), u32(21)
end

--- How many distinct colours a PNG shows, sampled through ffmpeg (decoded to raw RGB at a small
-- size): a blank page gives 1, a page with text and charts many.
function B.png_colours(path)
  local p = assert(H.popen("ffmpeg -v error -i " .. H.sh_quote(path)
    .. " -vf scale=160:-1:flags=neighbor -f rawvideo -pix_fmt rgb24 -"))
  local raw = p:read("*a")
  p:close()
  local seen, n = {}, 0
  for i = 1, #raw - 2, 3 do
    local k = raw:sub(i, i + 2)
    if not seen[k] then seen[k] = true; n = n + 1 end
  end
  return n
end

return B

--- Small pieces the command line shares: usage errors, files and folders, output names, times.
local M = {}

-- A usage error (exit status 2): raised as error(setmetatable({ message = ... }, M.Usage)).
M.Usage = {}

function M.usage_error(fmt, ...)
  error(setmetatable({ message = fmt:format(...) }, M.Usage), 0)
end

local function sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
M.sh_quote = sh_quote

function M.is_tty(fd)
  -- Lua has no isatty(); test(1) inherits our descriptors. 5.4 returns true, LuaJIT 0.
  local r = os.execute("test -t " .. fd)
  return r == true or r == 0
end

function M.file_exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

function M.is_dir(path)
  local r = os.execute("test -d " .. sh_quote(path))
  return r == true or r == 0
end

function M.mkdir_p(path)
  local r = os.execute("mkdir -p " .. sh_quote(path))
  return r == true or r == 0
end

function M.abspath(p)
  if p:sub(1, 1) == "/" then return p end
  local cwd = os.getenv("PWD")
  if not cwd or cwd == "" then
    local h = io.popen("pwd")
    cwd = h and h:read("*l") or "."
    if h then h:close() end
  end
  return (cwd .. "/" .. p):gsub("/%./", "/"):gsub("/%.$", "")
end

--- Write `data` to `path` through a temporary file and rename(2): a crash never leaves a file
-- that looks finished but is not (a rerun checks outputs to skip finished inputs).
function M.write_atomic(path, data)
  local tmp = path .. ".part"
  local f, err = io.open(tmp, "wb")
  if not f then return nil, err end
  local ok, werr = f:write(data)
  local cok, cerr = f:close()
  if not ok or not cok then os.remove(tmp) return nil, werr or cerr end
  local rok, rerr = os.rename(tmp, path)
  if not rok then os.remove(tmp) return nil, rerr end
  return true
end

function M.fmt_duration(s)
  s = math.floor(s + 0.5)
  local h, m = math.floor(s / 3600), math.floor(s % 3600 / 60)
  if h > 0 then return ("%d:%02d:%02d"):format(h, m, s % 60) end
  return ("%d:%02d"):format(m, s % 60)
end

--- Bytes for people: "850 KB", "12.5 MB", "1.0 GB" (powers of 1024).
function M.fmt_bytes(n)
  if n < 1048576 then return ("%.0f KB"):format(n / 1024) end
  if n < 1073741824 then return ("%.1f MB"):format(n / 1048576) end
  return ("%.1f GB"):format(n / 1073741824)
end

function M.err_table(err)
  if type(err) ~= "table" then return { kind = "error", message = tostring(err) } end
  return { kind = err.kind, code = err.code, message = err.message, status = err.status }
end

function M.err_text(err)
  if type(err) == "table" and err.kind then
    local code = err.code and err.code ~= "" and (" [" .. tostring(err.code) .. "]") or ""
    return ("%s%s: %s"):format(err.kind, code, tostring(err.message))
  end
  return tostring(err)
end

function M.check_url(u)
  if u:find("[%s%c]") then return nil, "contains spaces or control characters" end
  local scheme, host = u:match("^(%a[%w+.-]*)://([^/?#]*)")
  if not scheme then return nil, "expected http:// or https://" end
  scheme = scheme:lower()
  if scheme ~= "http" and scheme ~= "https" then return nil, "scheme " .. scheme .. " is not http or https" end
  if host == "" or host:match("^[:@]") then return nil, "no host" end
  return true
end

--- An input that names a URL (scheme://...); anything else is a local file.
function M.is_url(s)
  return s:match("^%a[%w+.-]*://") ~= nil
end

--- A safe file name (without extension) from a URL's last path segment, or a file's name.
function M.base_name(url)
  local last
  if M.is_url(url) then
    local path = url:gsub("[?#].*$", ""):match("^%a[%w+.-]*://[^/]*(.*)$") or ""
    last = path:match("([^/]*)/*$") or ""
    last = last:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
  else
    last = url:match("([^/]*)/*$") or ""
  end
  last = last:gsub("[/\\]", "_")                         -- a decoded %2F is no folder
  last = last:gsub("%.%w%w?%w?%w?%w?$", "")                -- the audio extension
  last = last:gsub("[^%w._\128-\255-]", "_"):gsub("^[._-]+", "")
  if #last > 80 then last = last:sub(1, 80):gsub("[\192-\255][\128-\191]*$", "") end
  if last == "" then last = "audio" end
  return last
end

--- Unique names in input order (compared without case: some file systems ignore it).
function M.unique_names(urls)
  local used, out = {}, {}
  for i, u in ipairs(urls) do
    local base = M.base_name(u)
    local name, n = base, 1
    while used[name:lower()] do
      n = n + 1
      name = base .. "-" .. n
    end
    used[name:lower()] = true
    out[i] = name
  end
  return out
end

--- The environment variables a provider's credentials come from, one alternative per entry
-- (each a list that must all be set), from stt.providers().
function M.credential_envs(info)
  local out = {}
  for i, alt in ipairs(info.credentials or {}) do
    out[i] = {}
    for k, opt in ipairs(alt) do out[i][k] = info.env[opt] end
  end
  return out
end

return M

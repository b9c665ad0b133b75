--- Request bodies that stream from disk, for the transports that send bodies themselves (the ngx
-- transport; the libcurl engine does the same in C, csrc/bodysrc.c and curl_mime). The request
-- fields are the schemas' (csrc/engine.h):
--   body_file            a file sent as the body, after `body` and before `body_suffix`
--   body_file_base64     the file base64-encoded on the way (AUC flash's audio.data)
--   form, form_file      a multipart/form-data body: the fields in order, then the file part
-- source(req, encode_base64) -> { length, content_type?, next() -> chunk | nil, err, close() }, or
-- nil when the request has no file body (req.body is sent as it is), or nil, err when the file
-- cannot be read. encode_base64: the encoder for body_file_base64 (the ngx transport's is
-- ngx.encode_base64).
-- Files are read in 48 KiB chunks (never whole); base64 works on chunks of a multiple of 3 bytes.
local M = {}

local CHUNK = 48 * 1024                       -- a multiple of 3: base64 chunks join into one encoding
M.CHUNK = CHUNK

local function file_size(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local n = f:seek("end")
  f:close()
  return n
end

-- Content-Disposition quoting as browsers and libcurl do it (HTML's form encoding): a '"' in a
-- name becomes %22; CR and LF never reach here (the schemas refuse them).
local function quoted(s)
  return '"' .. s:gsub('"', "%%22") .. '"'
end

local function boundary()
  local t = {}
  for i = 1, 24 do t[i] = string.format("%x", math.random(0, 15)) end
  return "------------------------stt" .. table.concat(t)
end

--- The parts of the body: strings and { file = path, base64 = bool, size = n }.
local function parts_of(req)
  if req.form_file then
    local b = boundary()
    local head = {}
    for _, f in ipairs(req.form or {}) do
      head[#head + 1] = ("--%s\r\nContent-Disposition: form-data; name=%s\r\n\r\n%s\r\n"):format(b, quoted(f[1]), f[2])
    end
    local ff = req.form_file
    head[#head + 1] = ("--%s\r\nContent-Disposition: form-data; name=%s; filename=%s\r\n"):format(b,
      quoted(ff.field), quoted(ff.name or "file"))
    if ff.type and ff.type ~= "" then head[#head + 1] = "Content-Type: " .. ff.type .. "\r\n" end
    head[#head + 1] = "\r\n"
    return { table.concat(head), { file = req.body_file }, "\r\n--" .. b .. "--\r\n" },
           "multipart/form-data; boundary=" .. b
  end
  return { req.body or "", { file = req.body_file, base64 = req.body_file_base64 and true }, req.body_suffix or "" }
end

function M.source(req, encode_base64)
  if not req.body_file then return nil end
  if req.body_file_base64 and not encode_base64 then error("body.source: a base64 encoder is needed", 2) end
  local parts, content_type = parts_of(req)
  local length = 0
  for _, p in ipairs(parts) do
    if type(p) == "string" then
      length = length + #p
    else
      local n, err = file_size(p.file)
      if not n then return nil, "cannot read " .. p.file .. ": " .. tostring(err) end
      p.size = n
      length = length + (p.base64 and 4 * math.ceil(n / 3) or n)
    end
  end
  local i, f, sent_file = 0, nil, 0
  local src = { length = length, content_type = content_type }
  function src.next()
    while true do
      if f then
        local chunk = f:read(CHUNK)
        if chunk then
          sent_file = sent_file + #chunk
          return parts[i].base64 and encode_base64(chunk) or chunk
        end
        f:close()
        f = nil
        if sent_file ~= parts[i].size then return nil, parts[i].file .. " changed size while it was sent" end
      end
      i = i + 1
      local p = parts[i]
      if p == nil then return nil end
      if type(p) == "string" then
        if p ~= "" then return p end
      else
        local err
        f, err = io.open(p.file, "rb")
        if not f then return nil, "cannot read " .. p.file .. ": " .. tostring(err) end
        sent_file = 0
      end
    end
  end
  function src.close()
    if f then f:close() f = nil end
  end
  return src
end

return M

-- Hashes, MACs and Base64 for the simulator's object stores (sim.s3, sim.oss_upload), through
-- LuaJIT's FFI on OpenSSL's libcrypto: an implementation independent of lua-stt's own C signer.
--   sha256(s) / md5(s)             -> raw digest;  hex(raw) -> lower-case hex
--   hmac_sha256(key, s) / hmac_sha1(key, s) -> raw MAC
--   base64(raw) / unbase64(s)      -> text | nil for invalid input
--   digest_file(path, opts)        -> { sha256 = hex, md5 = hex, size = n } | nil, err: a file (or a
--                                     byte range of it) hashed in chunks, optionally copied
--   digester()                     -> incremental SHA-256 + MD5 over strings
--   mkdir_p(dir)                   -> true | nil, err (the one file-system call Lua lacks)
-- luacheck: globals ngx
local ffi = require "ffi"

local M = {}

ffi.cdef [[
typedef struct evp_md_st EVP_MD;
typedef struct evp_md_ctx_st EVP_MD_CTX;
typedef struct engine_st ENGINE;
const EVP_MD *EVP_sha256(void);
const EVP_MD *EVP_sha1(void);
const EVP_MD *EVP_md5(void);
EVP_MD_CTX *EVP_MD_CTX_new(void);
void EVP_MD_CTX_free(EVP_MD_CTX *ctx);
int EVP_DigestInit_ex(EVP_MD_CTX *ctx, const EVP_MD *type, ENGINE *impl);
int EVP_DigestUpdate(EVP_MD_CTX *ctx, const void *d, size_t cnt);
int EVP_DigestFinal_ex(EVP_MD_CTX *ctx, unsigned char *md, unsigned int *s);
int EVP_Digest(const void *data, size_t count, unsigned char *md, unsigned int *size,
               const EVP_MD *type, ENGINE *impl);
unsigned char *HMAC(const EVP_MD *evp_md, const void *key, int key_len,
                    const unsigned char *d, size_t n, unsigned char *md, unsigned int *md_len);
int EVP_EncodeBlock(unsigned char *t, const unsigned char *f, int n);
int EVP_DecodeBlock(unsigned char *t, const unsigned char *f, int n);

typedef struct _IO_FILE FILE;
FILE *fopen(const char *path, const char *mode);
size_t fread(void *ptr, size_t size, size_t nmemb, FILE *stream);
size_t fwrite(const void *ptr, size_t size, size_t nmemb, FILE *stream);
int fseeko(FILE *stream, int64_t offset, int whence);
int fclose(FILE *stream);
int fflush(FILE *stream);
int mkdir(const char *path, unsigned int mode);
void *memmem(const void *haystack, size_t haystacklen, const void *needle, size_t needlelen);
void *memmove(void *dest, const void *src, size_t n);
char *strerror(int errnum);
]]

local lib
do
  local ok, l = pcall(ffi.load, "crypto")
  if not ok then ok, l = pcall(ffi.load, "libcrypto.so.3") end
  if not ok then error("sim.crypto: cannot load OpenSSL's libcrypto: " .. tostring(l)) end
  lib = l
end
local C = ffi.C

local MAX_MD = 64
local md_buf = ffi.new("unsigned char[?]", MAX_MD)
local md_len = ffi.new("unsigned int[1]")

function M.hex(raw)
  return (raw:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local function digest(md, s)
  assert(lib.EVP_Digest(s, #s, md_buf, md_len, md, nil) == 1, "EVP_Digest failed")
  return ffi.string(md_buf, md_len[0])
end

function M.sha256(s) return digest(lib.EVP_sha256(), s) end
function M.md5(s) return digest(lib.EVP_md5(), s) end
function M.sha256_hex(s) return M.hex(M.sha256(s)) end

local function hmac(md, key, s)
  local p = lib.HMAC(md, key, #key, s, #s, md_buf, md_len)
  assert(p ~= nil, "HMAC failed")
  return ffi.string(md_buf, md_len[0])
end

function M.hmac_sha256(key, s) return hmac(lib.EVP_sha256(), key, s) end
function M.hmac_sha1(key, s) return hmac(lib.EVP_sha1(), key, s) end

function M.base64(raw)
  local n = #raw
  local out = ffi.new("unsigned char[?]", 4 * math.floor((n + 2) / 3) + 1)
  local len = lib.EVP_EncodeBlock(out, raw, n)
  return ffi.string(out, len)
end

-- Strict standard Base64 (padding required, no whitespace); nil when s is not Base64.
function M.unbase64(s)
  if type(s) ~= "string" or #s % 4 ~= 0 or s:find("[^A-Za-z0-9+/=]") or s:find("=[^=]") then
    return nil
  end
  if #s == 0 then return "" end
  local out = ffi.new("unsigned char[?]", #s / 4 * 3 + 1)
  local len = lib.EVP_DecodeBlock(out, s, #s)
  if len < 0 then return nil end
  -- EVP_DecodeBlock counts the bytes the padding stands for: drop them.
  local pad = #(s:match("=*$"))
  if pad > 2 then return nil end
  return ffi.string(out, len - pad)
end

---------------------------------------------------------------------------- files

local CHUNK = 1024 * 1024

local function new_ctx(md)
  local ctx = lib.EVP_MD_CTX_new()
  assert(ctx ~= nil, "EVP_MD_CTX_new failed")
  ctx = ffi.gc(ctx, lib.EVP_MD_CTX_free)
  assert(lib.EVP_DigestInit_ex(ctx, md, nil) == 1, "EVP_DigestInit_ex failed")
  return ctx
end

local function final_hex(ctx)
  assert(lib.EVP_DigestFinal_ex(ctx, md_buf, md_len) == 1, "EVP_DigestFinal_ex failed")
  return M.hex(ffi.string(md_buf, md_len[0]))
end

-- Hash a file in 1 MiB chunks (never read whole into Lua): opts.offset (0), opts.length (to the
-- end), opts.copy_to = path (write those bytes there too), opts.yield (a function called between
-- chunks, e.g. ngx.sleep(0) to let the worker serve other requests).
-- -> { sha256 = hex, md5 = hex, size = bytes } | nil, message
function M.digest_file(path, opts)
  opts = opts or {}
  local f = C.fopen(path, "rb")
  if f == nil then return nil, "cannot open " .. path end
  local out
  if opts.copy_to then
    out = C.fopen(opts.copy_to, "wb")
    if out == nil then C.fclose(f); return nil, "cannot create " .. opts.copy_to end
  end
  local function close()
    C.fclose(f)
    if out ~= nil and out then C.fclose(out) end
  end
  if (opts.offset or 0) > 0 and C.fseeko(f, opts.offset, 0) ~= 0 then
    close()
    return nil, "cannot seek in " .. path
  end
  local sha, md5 = new_ctx(lib.EVP_sha256()), new_ctx(lib.EVP_md5())
  local buf = ffi.new("unsigned char[?]", CHUNK)
  local left = opts.length
  local size, chunks = 0, 0
  while left == nil or left > 0 do
    local want = CHUNK
    if left and left < want then want = left end
    local n = tonumber(C.fread(buf, 1, want, f))
    if n == 0 then break end
    lib.EVP_DigestUpdate(sha, buf, n)
    lib.EVP_DigestUpdate(md5, buf, n)
    if out and tonumber(C.fwrite(buf, 1, n, out)) ~= n then
      close()
      return nil, "cannot write " .. opts.copy_to
    end
    size = size + n
    if left then left = left - n end
    chunks = chunks + 1
    if opts.yield and chunks % 16 == 0 then opts.yield() end
  end
  if out and C.fflush(out) ~= 0 then close(); return nil, "cannot write " .. opts.copy_to end
  close()
  if left and left > 0 then return nil, "file " .. path .. " is shorter than expected" end
  return { sha256 = final_hex(sha), md5 = final_hex(md5), size = size }
end

-- Copy the bytes of a file from `offset` up to the first occurrence of `delim` (a multipart
-- delimiter) into `dest`, MD5 on the way, in 1 MiB chunks through C buffers (no Lua strings: a
-- 1 GB form part costs about what copying it does). Past `max` bytes nothing more is written,
-- only counted. opts.yield as for digest_file.
-- -> { md5 = hex, size = bytes before the delimiter, stop = offset of the delimiter } | nil, err
function M.copy_until(path, offset, delim, dest, max, opts)
  opts = opts or {}
  local f = C.fopen(path, "rb")
  if f == nil then return nil, "cannot open " .. path end
  local out = C.fopen(dest, "wb")
  if out == nil then C.fclose(f); return nil, "cannot create " .. dest end
  local function close() C.fclose(f); C.fclose(out) end
  if offset > 0 and C.fseeko(f, offset, 0) ~= 0 then close(); return nil, "cannot seek in " .. path end
  local md5 = new_ctx(lib.EVP_md5())
  local dlen = #delim
  local keep = dlen - 1
  local buf = ffi.new("unsigned char[?]", CHUNK + dlen)
  local filled, size, chunks = 0, 0, 0
  local written = 0
  local function emit(n)   -- the first n bytes of buf are part data
    if n <= 0 then return true end
    lib.EVP_DigestUpdate(md5, buf, n)
    local w = n
    if max and written + w > max then w = math.max(0, max - written) end
    if w > 0 and tonumber(C.fwrite(buf, 1, w, out)) ~= w then return false end
    written = written + w
    size = size + n
    return true
  end
  while true do
    local n = tonumber(C.fread(buf + filled, 1, CHUNK + dlen - filled, f))
    filled = filled + n
    local hit = C.memmem(buf, filled, delim, dlen)
    if hit ~= nil then
      local at = ffi.cast("unsigned char *", hit) - buf
      if not emit(at) then close(); return nil, "cannot write " .. dest end
      close()
      return { md5 = final_hex(md5), size = size, stop = offset + size }
    end
    if n == 0 then close(); return nil, "no closing delimiter" end
    local take = filled - keep
    if take > 0 then
      if not emit(take) then close(); return nil, "cannot write " .. dest end
      C.memmove(buf, buf + take, keep)
      filled = keep
    end
    chunks = chunks + 1
    if opts.yield and chunks % 16 == 0 then opts.yield() end
  end
end

-- Incremental MD5 (+ SHA-256 unless md5_only) over strings, e.g. a streamed multipart part:
-- d = M.digester(); d:update(s) ...; d:final() -> { sha256 = hex | nil, md5 = hex, size = n }
function M.digester(md5_only)
  local sha = not md5_only and new_ctx(lib.EVP_sha256()) or nil
  local md5 = new_ctx(lib.EVP_md5())
  local size = 0
  return {
    update = function(_, s)
      if sha then lib.EVP_DigestUpdate(sha, s, #s) end
      lib.EVP_DigestUpdate(md5, s, #s)
      size = size + #s
    end,
    final = function()
      return { sha256 = sha and final_hex(sha) or nil, md5 = final_hex(md5), size = size }
    end,
  }
end

-- mkdir -p: every missing directory of `dir` (an absolute path), mode 0755.
function M.mkdir_p(dir)
  local path = ""
  for seg in dir:gmatch("[^/]+") do
    path = path .. "/" .. seg
    if C.mkdir(path, tonumber("755", 8)) ~= 0 then
      local e = ffi.errno()
      if e ~= 17 then return nil, path .. ": " .. ffi.string(C.strerror(e)) end   -- 17 = EEXIST
    end
  end
  return true
end

return M

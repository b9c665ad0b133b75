-- Audio probing: WAV (RIFF chunks) and MP3 (MPEG audio frames, Xing/Info + LAME tag).
-- probe(bytes) -> { format = "wav"|"mp3", audio_format = "pcm_s16le"|..|"mp3",
--                   sample_rate, channels, duration_ms } or nil, reason
local M = {}

local byte, sub = string.byte, string.sub

local function u16le(s, i)
  local a, b = byte(s, i, i + 1)
  return a + b * 256
end

local function u32le(s, i)
  local a, b, c, d = byte(s, i, i + 3)
  return a + b * 256 + c * 65536 + d * 16777216
end

local function u32be(s, i)
  local a, b, c, d = byte(s, i, i + 3)
  return ((a * 256 + b) * 256 + c) * 256 + d
end

---------------------------------------------------------------------------- WAV

local WAV_CODECS = { [1] = "pcm", [3] = "float", [6] = "alaw", [7] = "mulaw", [0xFFFE] = "extensible" }

local function pcm_name(codec, bits)
  if codec == "float" then return "pcm_f" .. bits .. "le" end
  if codec == "alaw" then return "pcm_alaw" end
  if codec == "mulaw" then return "pcm_mulaw" end
  if bits == 8 then return "pcm_u8" end
  return "pcm_s" .. bits .. "le"
end

local function probe_wav(s)
  local n = #s
  local pos, fmt, data_size = 13, nil, nil
  while pos + 7 <= n do
    local id, size = sub(s, pos, pos + 3), u32le(s, pos + 4)
    local body = pos + 8
    if id == "fmt " and body + 15 <= n then
      local tag = u16le(s, body)
      fmt = {
        codec = WAV_CODECS[tag] or "unknown",
        channels = u16le(s, body + 2),
        sample_rate = u32le(s, body + 4),
        byte_rate = u32le(s, body + 8),
        block_align = u16le(s, body + 12),
        bits = u16le(s, body + 14),
      }
      if tag == 0xFFFE and size >= 40 and body + 25 <= n then
        fmt.codec = WAV_CODECS[u16le(s, body + 24)] or "unknown"   -- sub-format GUID
      end
    elseif id == "data" then
      -- Streaming writers leave 0 or 0xFFFFFFFF; a truncated file has fewer bytes: use what is there.
      local available = n - body + 1
      data_size = (size == 0 or size > available) and available or size
      break
    end
    pos = body + size + (size % 2)
  end
  if not fmt then return nil, "WAV without a fmt chunk" end
  if not data_size then return nil, "WAV without a data chunk" end
  if fmt.codec == "unknown" or fmt.channels < 1 or fmt.sample_rate < 1 then
    return nil, "unsupported WAV encoding"
  end
  local byte_rate = fmt.byte_rate
  if byte_rate == 0 then byte_rate = fmt.sample_rate * fmt.channels * math.floor(fmt.bits / 8) end
  if byte_rate == 0 then return nil, "WAV with zero byte rate" end
  return {
    format = "wav",
    audio_format = pcm_name(fmt.codec, fmt.bits),
    sample_rate = fmt.sample_rate,
    channels = fmt.channels,
    duration_ms = math.floor(data_size * 1000 / byte_rate + 0.5),
  }
end

---------------------------------------------------------------------------- MP3

local BITRATES = {
  -- [version_key][layer] = kbit/s by index 1..14
  v1 = {
    [1] = { 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448 },
    [2] = { 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384 },
    [3] = { 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320 },
  },
  v2 = {
    [1] = { 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256 },
    [2] = { 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160 },
    [3] = { 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160 },
  },
}
local SAMPLE_RATES = {
  [3] = { 44100, 48000, 32000 },   -- MPEG-1
  [2] = { 22050, 24000, 16000 },   -- MPEG-2
  [0] = { 11025, 12000, 8000 },    -- MPEG-2.5
}

-- Parse the 4-byte frame header at i; returns a frame table or nil.
local function frame_at(s, i)
  local b1, b2, b3, b4 = byte(s, i, i + 3)
  if not b4 or b1 ~= 0xFF or b2 < 0xE0 then return nil end
  local version = math.floor(b2 / 8) % 4          -- 0: 2.5, 1: reserved, 2: 2, 3: 1
  local layer_bits = math.floor(b2 / 2) % 4       -- 1: III, 2: II, 3: I
  if version == 1 or layer_bits == 0 then return nil end
  local layer = 4 - layer_bits
  local br_index = math.floor(b3 / 16)
  local sr_index = math.floor(b3 / 4) % 4
  if br_index == 0 or br_index == 15 or sr_index == 3 then return nil end
  local bitrate = BITRATES[version == 3 and "v1" or "v2"][layer][br_index] * 1000
  local sample_rate = SAMPLE_RATES[version][sr_index + 1]
  local padding = math.floor(b3 / 2) % 2
  local mono = math.floor(b4 / 64) == 3
  local samples, length
  if layer == 1 then
    samples = 384
    length = (math.floor(12 * bitrate / sample_rate) + padding) * 4
  elseif layer == 2 then
    samples = 1152
    length = math.floor(144 * bitrate / sample_rate) + padding
  elseif version == 3 then
    samples = 1152
    length = math.floor(144 * bitrate / sample_rate) + padding
  else
    samples = 576
    length = math.floor(72 * bitrate / sample_rate) + padding
  end
  return {
    version = version, layer = layer, sample_rate = sample_rate, samples = samples,
    length = length, channels = mono and 1 or 2,
  }
end

local function skip_id3v2(s)
  if sub(s, 1, 3) ~= "ID3" or #s < 10 then return 1 end
  local a, b, c, d = byte(s, 7, 10)
  local size = ((a * 128 + b) * 128 + c) * 128 + d
  local footer = (math.floor(byte(s, 6) / 16) % 2 == 1) and 10 or 0
  return 11 + size + footer
end

-- Xing/Info header in the first frame: total samples after LAME delay/padding, or nil.
local function xing_samples(s, i, f)
  local side
  if f.version == 3 then side = (f.channels == 1) and 17 or 32 else side = (f.channels == 1) and 9 or 17 end
  local p = i + 4 + side
  local tag = sub(s, p, p + 3)
  if tag ~= "Xing" and tag ~= "Info" then return nil end
  local flags = u32be(s, p + 4)
  p = p + 8
  if flags % 2 ~= 1 then return nil end
  local frames = u32be(s, p)
  p = p + 4
  if math.floor(flags / 2) % 2 == 1 then p = p + 4 end     -- bytes
  if math.floor(flags / 4) % 2 == 1 then p = p + 100 end   -- TOC
  if math.floor(flags / 8) % 2 == 1 then p = p + 4 end     -- quality
  local total = frames * f.samples
  -- LAME/Lavc extension: 9-byte encoder string, then delay and padding (12 bits each) at +21.
  if p + 23 <= #s and sub(s, p, p + 3):match("^[%w]+$") then
    local d1, d2, d3 = byte(s, p + 21, p + 23)
    local delay = d1 * 16 + math.floor(d2 / 16)
    local padding = (d2 % 16) * 256 + d3
    if delay + padding < total then total = total - delay - padding end
  end
  return total
end

local function probe_mp3(s)
  local n = #s
  local i = skip_id3v2(s)
  -- Find two consecutive valid frames (guards against a stray 0xFF in garbage).
  local first
  while i + 3 <= n do
    local f = frame_at(s, i)
    if f and f.length > 4 then
      local g = frame_at(s, i + f.length)
      if g or i + f.length > n then first = f; break end
    end
    i = i + 1
    if i > 65546 then break end   -- no frame sync in the first 64 KiB: not MP3
  end
  if not first then return nil, "no MPEG audio frames" end
  local info = {
    format = "mp3", audio_format = "mp3", sample_rate = first.sample_rate, channels = first.channels,
  }
  local total = xing_samples(s, i, first)
  if not total then
    total = 0
    while i + 3 <= n do
      local f = frame_at(s, i)
      if f and f.length > 4 then
        total = total + f.samples
        i = i + f.length
      elseif sub(s, i, i + 2) == "TAG" then
        break
      else
        i = i + 1   -- resync
      end
    end
  end
  info.duration_ms = math.floor(total * 1000 / first.sample_rate + 0.5)
  return info
end

---------------------------------------------------------------------------- entry

function M.probe(s)
  if type(s) ~= "string" or #s < 12 then return nil, "too short to be audio" end
  if sub(s, 1, 4) == "RIFF" and sub(s, 9, 12) == "WAVE" then
    return probe_wav(s)
  end
  return probe_mp3(s)
end

return M

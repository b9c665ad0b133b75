--- stt.subtitle.cut: the cutting layer of subtitles. A Result's words (or, without word timings,
-- the units of its text) go into a flat token store, block by block (consecutive segments of one
-- speaker and one profile); each block is cut into events and their lines; then the events are
-- timed: cues(result, opts).
--
-- The rules (docs/subtitles.md):
--   * at most 2 lines; 42 characters per line for Latin scripts, 16 for Chinese, 13 full-width for
--     Japanese, where half-width characters count 0.5 in CJK text;
--   * an event lasts 5/6 s .. 7 s;
--   * reading speed at most 17 characters/s (Latin), 9 (Chinese), 4 (Japanese), 12 (Korean),
--     spaces and punctuation included: an event is held on screen longer when it reads too fast,
--     up to half a second past the end of speech, 7 s, and the next event;
--   * a gap of at least 2 frames between events; a gap of at most half a second is closed to
--     exactly 2 frames ("chaining");
--   * breaks at punctuation and pauses first, never inside a word (a word of the ASR, or a
--     Latin/digit run in CJK text) and never across a speaker change; two-line events are split
--     where the lines come out balanced, preferring punctuation, never after an article or
--     preposition.
-- Every number is an option (see DEFAULTS and PROFILES in stt.subtitle.text); the profile is picked
-- per segment from its language (segment, then result) or, without one, from the script of its text.
-- Pure: no I/O, no globals.
local Text = require "stt.subtitle.text"
local Label = require "stt.subtitle.label"

local C = {}

-- Library functions and the text layer as upvalues: the loops below call them once or more per word.
local tonumber, type, ipairs, tostring = tonumber, type, ipairs, tostring
local byte, find, concat = string.byte, string.find, table.concat
local mfloor, max, min, ceil = math.floor, math.max, math.min, math.ceil
local ASCII, CHAR, CLOSING = Text.ASCII, Text.CHAR, Text.CLOSING
local width, first_char, last_char, is_ascii_char = Text.width, Text.first_char, Text.last_char, Text.is_ascii_char
local clean, closing_start, punct_rank, weak_end = Text.clean, Text.closing_start, Text.punct_rank, Text.weak_end
local script_profile, language_profile, profile_options =
  Text.script_profile, Text.language_profile, Text.profile_options

---------------------------------------------------------------------------- tokens

-- Units of a text without word timings: Latin words, or in CJK text single characters with
-- Latin/digit runs kept whole; closing punctuation sticks to the unit before it.
local function text_units(text, prof)
  local units = {}
  if not prof.cjk then
    for w in text:gmatch("%S+") do
      if CLOSING[first_char(w)] and #units > 0 and not w:find("%w") then
        units[#units] = units[#units] .. w
      else
        units[#units + 1] = w
      end
    end
    return units
  end
  local run, spaced = nil, {}
  local function flush() if run then units[#units + 1] = run; run = nil end end
  for ch in text:gmatch(CHAR) do
    if ch:match("^%s$") then
      flush()
      spaced[#units + 1] = true            -- the next unit had a space before it in the text
    elseif is_ascii_char(ch) and not CLOSING[ch] then
      run = (run or "") .. ch
    elseif CLOSING[ch] then
      if run then run = run .. ch
      elseif #units > 0 then units[#units] = units[#units] .. ch
      else units[1] = ch end
    else
      flush()
      units[#units + 1] = ch
    end
  end
  flush()
  return units, spaced
end

local function num(v, default)
  v = tonumber(v)
  if not v or v ~= v then return default end
  return math.floor(v + 0.5)
end

---------------------------------------------------------------------------- token store
-- Tokens live in flat arrays indexed by token, not in a table per token: T text, S/E start/end
-- (ms), A true when the text is known to be ASCII (its width is then its length times half), K 1
-- when it starts with closing punctuation, else 2 when a space preceded it in a text without word
-- timings, else 0, U true when its times were shared out (no word timings: no karaoke for it).
-- They hold one block at a time (cut as soon as it is complete) in slots 2..hi, slot 1 being the
-- sentinel of prepare: the arrays stay as small as the largest block, and dense (no nil in them).

-- Two stores: one holds the current block, the other takes a segment that may start a new one
-- (so no tokens move when it does). They share the scratch arrays of prepare and the caches.
local function new_stores()
  local P, J, F, RI, RJ, rank, weak, memo, widths = {}, {}, {}, {}, {}, {}, {}, {}, {}
  local function store()
    -- slot 1: the sentinel, for good; blk: the block the store holds
    return { T = { "" }, S = { 0 }, E = { 0 }, A = { false }, K = { 0 }, U = { false }, blk = {},
             P = P, J = J, F = F, RI = RI, RJ = RJ, rank = rank, weak = weak, memo = memo, widths = widths }
  end
  return store(), store()
end

-- Facts about a word's text, found once per distinct string (speech repeats its words): 1 clean
-- (clean() leaves it as it is) and ASCII, 2 the same starting with closing punctuation, 3 clean
-- and not ASCII, 4 the same starting with closing punctuation; false: it needs cleaning.
local function text_facts(memo, s)
  local f = memo[s]
  if f ~= nil then return f end
  if type(s) ~= "string" then return false end
  if find(s, "[%c%s]") then
    f = false
  else
    f = (find(s, ASCII) and 1 or 3) + (closing_start(s) and 1 or 0)
  end
  memo[s] = f
  return f
end

-- The text of a word (text and punctuation, cleaned) given the facts f of its text; whether it is
-- known to be ASCII; whether it starts with closing punctuation.
local function word_text(memo, text, f, punct)
  local ascii, closing
  if f then
    ascii, closing = f <= 2, f % 2 == 0
  else
    text, ascii = clean(text), false
  end
  if punct ~= nil then                                        -- clean(nil) is ""
    local pf = text_facts(memo, punct)
    local p = pf and punct or clean(punct)
    if p ~= "" then text, ascii, closing = text .. p, ascii and pf and pf <= 2 or false, nil end
  end
  if closing == nil then closing = closing_start(text) == true end
  return text, ascii, closing
end

-- (start, position): sorts words and segments in time order, stably.
local function by_start(a, b)
  if a.s ~= b.s then return a.s < b.s end
  return a.i < b.i
end

-- Words out of time order: sort them by (start, position), then as below.
local function sorted_word_tokens(X, at, words, s0)
  local memo, timed = X.memo, {}
  for i, w in ipairs(words) do
    local text, punct = w.text, w.punct
    local ascii, closing
    text, ascii, closing = word_text(memo, text, text_facts(memo, text), punct)
    if text ~= "" then
      local s = num(w.start_ms, s0)
      local e = num(w.end_ms, s)
      if e < s then e = s end
      timed[#timed + 1] = { text = text, s = s, e = e, i = i, a = ascii, c = closing }
    end
  end
  table.sort(timed, by_start)
  local T, S, E, A, K, U = X.T, X.S, X.E, X.A, X.K, X.U
  local k = at
  for _, t in ipairs(timed) do
    if k > at and t.c and not find(t.text, "%w") then
      T[k], E[k], A[k] = T[k] .. t.text, max(E[k], t.e), A[k] and t.a  -- punctuation: glue it
    else
      k = k + 1
      T[k], S[k], E[k], A[k], K[k], U[k] = t.text, t.s, t.e, t.a, t.c and 1 or 0, false
    end
  end
  return k
end

-- Stores the tokens of one segment, in time order, at slots at+1 ...; returns the last slot used
-- (at: none). Slot `at` must be filled already (the arrays stay dense).
local function segment_tokens(X, at, seg, s0, e0, prof)
  local T, S, E, A, K, U, memo = X.T, X.S, X.E, X.A, X.K, X.U, X.memo
  local words = type(seg.words) == "table" and seg.words or {}
  local k, last_s = at, nil
  for _, w in ipairs(words) do
    local text, punct = w.text, w.punct
    local f = memo[text]
    if f == nil then f = text_facts(memo, text) end
    if punct ~= nil and f then
      -- word_text's common case: clean text and punctuation, clean together too
      local pf = memo[punct]
      if pf == nil then pf = text_facts(memo, punct) end
      if pf then
        if punct ~= "" then
          text = text .. punct
          f = memo[text]
          if f == nil then f = text_facts(memo, text) end
        end
        punct = nil
      end
    end
    local ascii, closing
    if f and punct == nil then
      ascii, closing = f <= 2, f % 2 == 0                     -- the common case: a known plain word
    else
      text, ascii, closing = word_text(memo, text, f, punct)
    end
    if text ~= "" then
      local s, e = tonumber(w.start_ms), tonumber(w.end_ms)
      if s and s == s then s = mfloor(s + 0.5) else s = s0 end  -- num(w.start_ms, s0), inlined
      if e and e == e then e = mfloor(e + 0.5) else e = s end   -- num(w.end_ms, s)
      if e < s then e = s end
      if last_s and s < last_s then return sorted_word_tokens(X, at, words, s0) end
      last_s = s
      if k > at and closing and not find(text, "%w") then
        T[k], E[k], A[k] = T[k] .. text, max(E[k], e), A[k] and ascii   -- punctuation: glue it
      else
        k = k + 1
        T[k], S[k], E[k], A[k], K[k], U[k] = text, s, e, ascii, closing and 1 or 0, false
      end
    end
  end
  if k > at then return k end
  -- No word timings: share the segment's time among the units in proportion to their width.
  local units, spaced = text_units(clean(seg.text), prof)
  local total, widths, known = 0, {}, X.widths[prof]         -- (known: widths of texts, see prepare)
  if not known then
    known = {}
    X.widths[prof] = known
  end
  for m, u in ipairs(units) do
    local w = known[u]
    if not w then
      w = width(u, prof)
      known[u] = w
    end
    widths[m] = w
    total = total + w
  end
  if total == 0 then          -- nothing but zero-width text: share the time by count (not 0/0)
    for m = 1, #units do widths[m] = 1 end
    total = #units
  end
  local pos, dur = 0, e0 - s0
  for m, u in ipairs(units) do
    local s = s0 + mfloor(dur * pos / total)
    pos = pos + widths[m]
    k = k + 1
    T[k], S[k], E[k], A[k], U[k] = u, s, s0 + mfloor(dur * pos / total), false, true
    K[k] = closing_start(u) and 1 or spaced and spaced[m] and 2 or 0
  end
  return k
end

---------------------------------------------------------------------------- cutting
-- Linear in the number of tokens: widths are measured once per token (prepare), a span's width is
-- a difference of prefix sums, an event grows token by token with its greedy line count kept up to
-- date, punctuation and weak-word checks are computed once per distinct text.

-- Is there a space between tokens k and k+1? Not before closing punctuation; in Latin text, yes;
-- in CJK text where the source text had one (K 2) or between two ASCII runs.
local function space_after(T, K, k, cjk)
  local kind = K[k + 1]
  if kind == 1 then return false end
  if not cjk or kind == 2 then return true end
  -- is_ascii_char(first_char(b)) is b's first byte < 0x80: tested first, it is cheap
  return byte(T[k + 1], 1) < 0x80 and is_ascii_char(last_char(T[k]))
end

-- Prefix widths of block lo..hi: width(i, j) = P[j] - P[i-1] - J[j] where J[k] is the width of the
-- joiner after token k ("" or " "). The text of i..j is concat(T, " ", i, j) when every joiner of
-- the block is " " (blk.spaced), else concat(F, "", 2i-1, 2j-1) with F = text, joiner, text ...
-- blk.additive: the width of the text of i..j is width(i, j) exactly (sums of `half` are exact, and
-- no token starts with a UTF-8 continuation byte, which would join the character before it).
local function prepare(X, blk)
  local T, A, K, P, J = X.T, X.A, X.K, X.P, X.J
  local prof, lo, hi = blk.prof, blk.lo, blk.hi
  local cjk, half = prof.cjk, prof.half
  local exact = prof.exact
  local space_w = prof.space_w        -- width(" ", prof), measured once, when first needed
  local widths = X.widths[prof]                               -- width of non-ASCII texts, once each
  if not widths then
    widths = {}
    X.widths[prof] = widths
  end
  local additive, spaced = exact, true
  P[lo - 1], J[lo - 1] = 0, 0                                 -- the sentinel
  for k = lo, hi do
    local text = T[k]
    local w
    if A[k] and exact then
      w = #text * half
    else
      w = widths[text]
      if not w then
        w = width(text, prof)
        widths[text] = w
      end
      local b = byte(text, 1)
      if b >= 0x80 and b < 0xC0 then additive = false end
    end
    local jw = 0
    if k < hi then
      -- space_after(T, K, k, cjk), its common cases inlined
      local kind = K[k + 1]
      if kind == 1 then
        spaced = false
      elseif not cjk or kind == 2 or space_after(T, K, k, cjk) then
        if not space_w then
          space_w = width(" ", prof)
          prof.space_w = space_w
        end
        jw = space_w
      else
        spaced = false
      end
    end
    J[k] = jw
    P[k] = P[k - 1] + w + jw
  end
  if not spaced then
    local F = X.F
    F[2 * lo - 3] = ""
    F[2 * lo - 2] = ""
    for k = lo, hi do
      F[2 * k - 1] = T[k]
      F[2 * k] = k < hi and space_after(T, K, k, cjk) and " " or ""
    end
  end
  blk.additive, blk.spaced = additive, spaced
end

local function range_text(X, blk, i, j)
  if blk.spaced then return concat(X.T, " ", i, j) end
  return concat(X.F, "", 2 * i - 1, 2 * j - 1)
end

-- punct_rank and weak_end of a token's text, once per distinct text (the callers look in the
-- caches X.rank and X.weak themselves first).
local function rank_of(X, text)
  local r = punct_rank(text)
  X.rank[text] = r
  return r
end

local function weak_of(X, text)
  local w = weak_end(text)
  X.weak[text] = w
  return w
end

-- Greedy line fill: the fewest lines a range needs (a token wider than a line gets its own). lw:
-- the width of the speaker label before the first line (it takes room on that line).
local function lines_needed(X, i, j, o, lw)
  local P, J, limit = X.P, X.J, o.line_chars
  local n, base = 1, P[i - 1] - lw
  for k = i + 1, j do
    if P[k] - base - J[k] > limit then
      n, base = n + 1, P[k - 1]
    end
  end
  return n
end

local function fits(X, i, j, o, lw)
  if X.E[j] - X.S[i] > o.max_ms then return false end
  return lines_needed(X, i, j, o, lw) <= o.max_lines
end

-- The width of the label of an event starting at token i: blk.lw1 for the block's first event (a
-- speaker turn starts there, or every event is labelled), blk.lwn for the others.
local function label_width(blk, i)
  if i == blk.lo then return blk.lw1 end
  return blk.lwn
end

-- A long pause after token k (of a block ending at hi).
local function forced_break(X, hi, k, o)
  return k < hi and X.S[k + 1] - X.E[k] >= o.pause_ms
end

-- Would an event starting at token r be left too short to read (its run of speech ends within
-- min_ms, at a long pause or the end of the block)?
local function short_remainder(X, hi, r, o)
  local S, E, min_ms, m = X.S, X.E, o.min_ms, r
  while m <= hi and S[m] - S[r] < min_ms do
    if m == hi or S[m + 1] - E[m] >= o.pause_ms then return E[m] - S[r] < min_ms end  -- forced_break
    m = m + 1
  end
  return false
end

-- Where to end an event that cannot take token j+1: the best break in i..j.
local function best_break(X, hi, i, j, o)
  local T, S, E, P, J, rank, weak = X.T, X.S, X.E, X.P, X.J, X.rank, X.weak
  local capacity = o.line_chars * o.max_lines
  local min_ms, cjk = o.min_ms, o.cjk
  local best, best_score = j, -math.huge
  for k = i, j do
    local text = T[k]
    local score = 4 * (P[k] - P[i - 1] - J[k]) / capacity
    local p = rank[text]
    if p == nil then p = rank_of(X, text) end
    score = score + (p == 2 and 6 or p == 1 and 3 or 0)
    if k < hi then score = score + min((S[k + 1] - E[k]) / 100, 5) end
    if E[k] - S[i] < min_ms then score = score - 5 end
    if not cjk then
      local wk = weak[text]
      if wk == nil then wk = weak_of(X, text) end
      if wk then score = score - 3 end
    end
    -- A short remainder costs 6 points: a break that cannot reach the best score without that cost
    -- cannot with it either, and needs no look at what follows it.
    if score >= best_score then
      if short_remainder(X, hi, k + 1, o) then score = score - 6 end
      if score >= best_score then best, best_score = k, score end
    end
  end
  return best
end

-- Lines of the event i..j: one if it fits, else the most balanced split (punctuation preferred,
-- no line ending on a weak word), else greedy filling for more than two lines. Also their reading
-- characters (the sum of their widths, the label's not included) when the block is additive, and
-- where the lines break: the last token of line 1 (two lines), or a list of each line's first
-- token (more), or nil (one line). lw: the label's width, which takes room on the first line.
local function layout(X, blk, i, j, o, lw)
  local T, P, J, rank, weak, cjk = X.T, X.P, X.J, X.rank, X.weak, o.cjk
  local limit, max_lines = o.line_chars, o.max_lines
  local wij = P[j] - P[i - 1] - J[j]
  if wij + lw <= limit or i == j then return { range_text(X, blk, i, j) }, blk.additive and 0 + wij end
  -- Every event needs at most max_lines lines (cut_block makes sure), so with max_lines 2 there is
  -- no need to count them.
  if max_lines >= 2 and (max_lines <= 2 or lines_needed(X, i, j, o, lw) <= 2) then
    local best, best_cost = nil, math.huge
    local pi, pj, jj = P[i - 1], P[j], J[j]
    for m = i, j - 1 do
      local w1, w2 = P[m] - pi - J[m] + lw, pj - P[m] - jj
      if w1 <= limit and w2 <= limit then
        local text = T[m]
        local cost = w1 - w2                                  -- math.abs(w1 - w2), inlined
        if cost < 0 then cost = -cost end
        local p = rank[text]
        if p == nil then p = rank_of(X, text) end
        cost = cost - (p == 2 and 0.35 or p == 1 and 0.25 or 0) * limit
        if not cjk then
          local wk = weak[text]
          if wk == nil then wk = weak_of(X, text) end
          if wk then cost = cost + 0.25 * limit end
        end
        if cost < best_cost then best, best_cost = m, cost end
      end
    end
    if best then
      return { range_text(X, blk, i, best), range_text(X, blk, best + 1, j) },
        blk.additive and 0 + (P[best] - pi - J[best]) + (pj - P[best] - jj), best
    end
  end
  local lines, starts, start, chars, off = {}, { i }, i, 0, lw
  for k = i + 1, j do
    if P[k] - P[start - 1] - J[k] + off > limit then
      lines[#lines + 1] = range_text(X, blk, start, k - 1)
      chars = chars + (P[k - 1] - P[start - 1] - J[k - 1])
      start, off = k, 0
      starts[#starts + 1] = k
    end
  end
  lines[#lines + 1] = range_text(X, blk, start, j)
  return lines, blk.additive and chars + (P[j] - P[start - 1] - J[j]), starts
end

-- Cut one block into events i..j: RI[r], RJ[r] for r = 1 .. (the count returned).
local function cut_block(X, blk, o)
  local S, E, P, J, RI, RJ = X.S, X.E, X.P, X.J, X.RI, X.RJ
  local nr, i, hi = 0, blk.lo, blk.hi
  local limit, pause_ms, max_ms, max_lines = o.line_chars, o.pause_ms, o.max_ms, o.max_lines
  while i <= hi do
    -- Grow the event while token j+1 fits (no long pause before it, within max_ms and max_lines).
    -- `lines` and `base` (P[start - 1] of the last line) are the greedy line fill of i..j, extended
    -- by one token per step: the count lines_needed(X, i, j + 1, o) would find, without re-measuring
    -- the span. ej is E[j].
    local j, lines, base, si, ej = i, 1, P[i - 1] - label_width(blk, i), S[i], E[i]
    while j < hi do
      local k = j + 1
      local ek = E[k]
      if S[k] - ej >= pause_ms then break end                 -- forced_break(X, hi, j, o)
      if ek - si > max_ms then break end
      local lines2, base2 = lines, base
      if P[k] - base2 - J[k] > limit then lines2, base2 = lines2 + 1, P[k - 1] end
      if lines2 <= max_lines then j, lines, base, ej = k, lines2, base2, ek else break end
    end
    local k = j
    if j < hi and not forced_break(X, hi, j, o) then k = best_break(X, hi, i, j, o) end
    nr = nr + 1
    RI[nr], RJ[nr] = i, k
    i = k + 1
  end
  -- An event too short to read (under min_ms of speech) joins its neighbour when the result
  -- still fits and no long pause separates them (the minimum duration).
  local r = 1
  while r <= nr do
    local a1, a2 = RI[r], RJ[r]
    if E[a2] - S[a1] < o.min_ms then
      local merged = false
      if r < nr and not forced_break(X, hi, a2, o) and fits(X, a1, RJ[r + 1], o, label_width(blk, a1)) then
        RI[r + 1], merged = a1, true
      elseif r > 1 and not forced_break(X, hi, RJ[r - 1], o)
        and fits(X, RI[r - 1], a2, o, label_width(blk, RI[r - 1])) then
        RJ[r - 1], merged = a2, true
      end
      if merged then                                          -- remove event r
        for m = r, nr - 1 do RI[m], RJ[m] = RI[m + 1], RJ[m + 1] end
        nr = nr - 1
      else
        r = r + 1
      end
    else
      r = r + 1
    end
  end
  return nr
end

---------------------------------------------------------------------------- cues

-- The segments (tables only) in time order: arrays of the segments, their starts and ends (ms).
local function sorted_segments(result)
  local segs, starts, ends, n, in_order = {}, {}, {}, 0, true
  for _, s in ipairs(type(result) == "table" and result.segments or {}) do
    if type(s) == "table" then
      local st = num(s.start_ms, 0)
      local en = num(s.end_ms, st)
      if en < st then en = st end
      if n > 0 and st < starts[n] then in_order = false end
      n = n + 1
      segs[n], starts[n], ends[n] = s, st, en
    end
  end
  -- (start, position) is a total order: segments already in time order (the usual case) need no
  -- sort.
  if not in_order then
    local order = {}
    for k = 1, n do order[k] = { seg = segs[k], s = starts[k], e = ends[k], i = k } end
    table.sort(order, by_start)
    for k, x in ipairs(order) do segs[k], starts[k], ends[k] = x.seg, x.s, x.e end
  end
  return segs, starts, ends
end
C.sorted_segments = sorted_segments

-- Blocks { prof, speaker, lo = 2, hi }: tokens of consecutive segments with one speaker and one
-- profile; each is handed to emit(store, blk, Q) once complete.
local function build_blocks(result, opts, emit, Q)
  local X, Y = new_stores()
  local cur, last_e = nil, nil
  local profiles, scripts = {}, {}
  local segs, starts, ends = sorted_segments(result)
  for n = 1, #segs do
    local seg = segs[n]
    local raw = seg.text
    -- clean() is pure for strings, so theirs waits until it is needed.
    local text = type(raw) ~= "string" and clean(raw) or nil
    local pname = opts.profile          -- or language_profile(seg.language or result.language), below
    if not pname and seg.language ~= nil then pname = language_profile(seg.language) end
    if not pname and result.language ~= nil then pname = language_profile(result.language) end
    if not pname then
      if type(raw) == "string" and find(raw, ASCII) and find(raw, "[^%c%s]") then
        pname = "latin"           -- fast path: what script_profile says of non-blank ASCII text
      else
        local sample = text or clean(raw)
        if sample == "" and type(seg.words) == "table" then
          local ws = {}
          for _, w in ipairs(seg.words) do ws[#ws + 1] = clean(w.text) end
          sample = table.concat(ws, " ")
        end
        pname = script_profile(sample, scripts)
      end
    end
    profiles[pname] = profiles[pname] or profile_options(pname, opts)
    local prof = profiles[pname]
    local speaker = seg.speaker ~= nil and tostring(seg.speaker) or nil
    -- A new block at a speaker or script change, and where segments overlap in time.
    if cur and cur.speaker == speaker and cur.prof == prof then
      -- The same block unless the segment overlaps it: its tokens go right after the block's.
      local hi = cur.hi
      local k = segment_tokens(X, hi, seg, starts[n], ends[n], prof)
      if k > hi then
        if X.S[hi + 1] < last_e then
          local T, S, E, A, K, U = Y.T, Y.S, Y.E, Y.A, Y.K, Y.U
          for m = hi + 1, k do
            local d = m - hi + 1
            T[d], S[d], E[d], A[d], K[d], U[d] = X.T[m], X.S[m], X.E[m], X.A[m], X.K[m], X.U[m]
          end
          emit(X, cur, Q)
          X, Y = Y, X
          cur = X.blk
          cur.prof, cur.speaker, cur.lo, cur.hi = prof, speaker, 2, k - hi + 1
        else
          cur.hi = k
        end
        last_e = X.E[cur.hi]
      end
    else
      local k = segment_tokens(Y, 1, seg, starts[n], ends[n], prof)
      if k > 1 then
        if cur then emit(X, cur, Q) end
        X, Y = Y, X
        cur = X.blk
        cur.prof, cur.speaker, cur.lo, cur.hi = prof, speaker, 2, k
        last_e = X.E[k]
      end
    end
  end
  if cur then emit(X, cur, Q) end
end

-- The words of event i..j with their timings, { text, start_ms, end_ms, line, sep } (sep: the
-- joiner before the word on its line, "" for a line's first word), or nil when a token's times
-- were shared out (no word timings). cut: where the lines break, as layout returns it.
local function event_words(X, blk, i, j, cut)
  local T, S, E, U, F = X.T, X.S, X.E, X.U, X.F
  for k = i, j do if U[k] then return nil end end
  local words, line, starts = {}, 1, type(cut) == "table" and cut or nil
  for k = i, j do
    local first = k == i
    if k > i and (cut == k - 1 or (starts and starts[line + 1] == k)) then line, first = line + 1, true end
    local sep = ""
    if not first then sep = blk.spaced and " " or F[2 * k - 2] end
    words[#words + 1] = { text = T[k], start_ms = S[k], end_ms = E[k], line = line, sep = sep }
  end
  return words
end

-- Cuts a complete block into events: Q.cues[n] = { start_ms, end_ms, lines, speaker, label?,
-- words? } with, beside it, Q.speech[n] (end of speech), Q.prof[n] and Q.chars[n] (reading
-- characters). A speaker turn starts at a block whose speaker is not the previous block's.
local function emit_block(X, blk, Q)
  local S, E, RI, RJ = X.S, X.E, X.RI, X.RJ
  local cues, speech, profs, chars = Q.cues, Q.speech, Q.prof, Q.chars
  prepare(X, blk)
  local o, speaker = blk.prof, blk.speaker
  local labeller, label1, label = Q.labeller, nil, nil
  if labeller then
    label1 = labeller(speaker, speaker ~= Q.last_speaker)
    label = labeller(speaker, false)
    Q.last_speaker = speaker
  end
  blk.lw1 = label1 and width(label1, o) or 0
  blk.lwn = label and width(label, o) or 0
  for r = 1, cut_block(X, blk, o) do
    local i, j = RI[r], RJ[r]
    local lab = r == 1 and label1 or label
    local lines, rc, cut = layout(X, blk, i, j, o, r == 1 and blk.lw1 or blk.lwn)
    local n = #cues + 1
    -- (label and words only when there are some: a cue table of four fields is the smallest)
    local c = { start_ms = S[i], end_ms = 0, lines = lines, speaker = speaker }
    if lab then c.label = lab end
    if Q.words then c.words = event_words(X, blk, i, j, cut) end
    cues[n] = c
    if not rc then                                            -- reading characters: the lines' width
      rc = 0
      for m = 1, #lines do rc = rc + width(lines[m], o) end
    end
    speech[n], profs[n], chars[n] = E[j], o, rc
  end
end

-- Event times: order, no overlap, minimum duration, reading speed, gap and chaining.
local function time_cues(Q)
  local cues, speech, profs, chars = Q.cues, Q.speech, Q.prof, Q.chars
  local n = #cues
  -- In order of (start, order of creation): events usually are already. (Not "a > b": a start
  -- can be NaN, and then the sort runs, as it always did.)
  for k = 2, n do
    local s1, s2 = cues[k - 1].start_ms, cues[k].start_ms
    if not (s1 < s2 or s1 == s2) then
      local order = {}
      for m = 1, n do order[m] = m end
      table.sort(order, function(a, b)
        local sa, sb = cues[a].start_ms, cues[b].start_ms
        if sa ~= sb then return sa < sb end
        return a < b
      end)
      local c2, e2, p2, r2 = {}, {}, {}, {}
      for m, x in ipairs(order) do c2[m], e2[m], p2[m], r2[m] = cues[x], speech[x], profs[x], chars[x] end
      for m = 1, n do cues[m], speech[m], profs[m], chars[m] = c2[m], e2[m], p2[m], r2[m] end
      break
    end
  end
  -- Overlapping speech (overlapping segments): the later event starts once the earlier one has
  -- been readable for min_ms (or its speech ended), plus the gap. Also keep every event visible.
  for k = 2, n do
    local p, c = cues[k - 1], cues[k]
    local o = profs[k - 1]
    local floor = p.start_ms + o.gap_ms + o.gap_ms
    if c.start_ms < speech[k - 1] then
      floor = max(floor, min(speech[k - 1], p.start_ms + o.min_ms) + o.gap_ms)
    end
    if c.start_ms < floor then
      c.start_ms = floor
      if speech[k] < floor then speech[k] = floor end
    end
  end
  for k, c in ipairs(cues) do
    local o, nx, speech_end = profs[k], cues[k + 1], speech[k]
    local limit = nx and (nx.start_ms - o.gap_ms) or math.huge
    local need = c.start_ms + ceil(chars[k] / o.cps * 1000)
    local target = max(speech_end, min(need, speech_end + o.linger_ms), c.start_ms + o.min_ms)
    target = min(target, c.start_ms + o.max_ms)
    local e = min(target, limit)
    if nx and nx.start_ms - e <= o.chain_ms then e = min(limit, c.start_ms + o.max_ms) end
    if e <= c.start_ms then e = c.start_ms + 1 end
    c.end_ms = e
  end
end

--- cues(result, opts) -> { { start_ms, end_ms, lines = { ... }, speaker = "1" or nil, label?,
-- words? }, ... } in time order, never overlapping. opts: see DEFAULTS and PROFILES (a key set at
-- the top level applies to every profile; opts.zh = {...} etc. to one); speaker_labels ("turn",
-- "every", false), speaker_format, speaker_names / speaker_name: cue.label, the text written before
-- the first line, whose width the first line makes room for; words = true: cue.words, the words
-- with their timings and lines (stt.subtitle.label, event_words above).
function C.cues(result, opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("subtitle: options table expected", 2) end
  local Q = { cues = {}, speech = {}, prof = {}, chars = {}, words = opts.words and true or nil,
              labeller = Label.labeller(opts, false) }
  build_blocks(result, opts, emit_block, Q)
  time_cues(Q)
  return Q.cues
end

return C

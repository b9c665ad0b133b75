local B = {}
--- Print a table: header row + rows (arrays of strings), columns padded.
-- The table printer of the benchmarks (no simulator needed).
function B.table(title, header, rows)
  local w = {}
  local function widen(r)
    for i, c in ipairs(r) do w[i] = math.max(w[i] or 0, #tostring(c)) end
  end
  widen(header)
  for _, r in ipairs(rows) do widen(r) end
  print("")
  print(title)
  local function line(r)
    local out = {}
    for i, c in ipairs(r) do out[i] = ("%-" .. w[i] .. "s"):format(tostring(c)) end
    print("  " .. table.concat(out, "  "))
  end
  line(header)
  local sep = {}
  for i = 1, #w do sep[i] = string.rep("-", w[i]) end
  line(sep)
  for _, r in ipairs(rows) do line(r) end
end
--- The median CPU time (os.clock) of `runs` calls of fn, each after a full GC.
function B.time(fn, runs)
  local ts = {}
  for i = 1, runs do
    collectgarbage(); collectgarbage()
    local t0 = os.clock()
    fn()
    ts[i] = os.clock() - t0
  end
  table.sort(ts)
  return ts[(#ts + 1 - (#ts + 1) % 2) / 2]
end

return B

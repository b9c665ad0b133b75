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
return B

-- A plain Lua dynamic programme for the edit distance between two unit lists (two rows, O(n m)):
-- the peer stt.score is measured against in `make bench`, and the oracle its specs check the C
-- aligner with.
local M = {}

function M.distance(a, b)
  local n, m = #a, #b
  local prev, cur = {}, {}
  for j = 0, m do prev[j] = j end
  for i = 1, n do
    cur[0] = i
    local ai = a[i]
    for j = 1, m do
      local v = prev[j - 1] + (ai == b[j] and 0 or 1)
      local up, left = prev[j] + 1, cur[j - 1] + 1
      if up < v then v = up end
      if left < v then v = left end
      cur[j] = v
    end
    prev, cur = cur, prev
  end
  return prev[m]
end

return M

-- Mean of one column per outcome group: an example Lua algorithm for `leben sandbox run`.
-- params.column: the column to average; params.outcome: a 0/1 column.
-- Returns n (the cohort) and, per group, its size and mean.
local x = data.col(params.column or "x1")
local y = data.col(params.outcome or "target")
local groups = { [0] = { n = 0, sum = 0 }, [1] = { n = 0, sum = 0 } }
local n = 0
for i = 1, data.nrows do
  local xi, yi = x[i], y[i]
  if xi and yi then
    local g = groups[math.tointeger(yi)]
    if g then
      g.n = g.n + 1
      g.sum = g.sum + xi
      n = n + 1
    end
  end
end
local out = { n = n, groups = {} }
for k = 0, 1 do
  local g = groups[k]
  out.groups[#out.groups + 1] = { outcome = k, n = g.n, mean = g.n > 0 and g.sum / g.n or nil }
end
return out

"""The attacker's Lua scripts. OLD_* read rows with data.col (today's interface); AGG_* are the
natural adaptations to the aggregation interface PLAN.md describes (agg.count/sum/mean/sd/
histogram/crosstab/linreg with declarative `where` filters): every call that may be refused
is wrapped in pcall so that whatever the sandbox lets through is returned."""

# ---- today's interface: rows through data.col --------------------------------------------

ROWS = """
local ids = data.col("patient_id")
local cols = {"age", "sex", "sbp", "outcome", "time", "event"}
local C = {}
for _, c in ipairs(cols) do C[c] = data.col(c) end
local N = data.nrows
"""

OLD_COLUMN_ARRAYS = ROWS + """
local out = {n = N, patient_id = ids}
for _, c in ipairs(cols) do out["col_" .. c] = C[c] end
return out
"""

OLD_ROW_OBJECTS = ROWS + """
local rows = {}
for i = 1, N do
  local r = {id = ids[i]}
  for _, c in ipairs(cols) do r[c] = C[c][i] end
  rows[i] = r
end
return {n = N, records = rows}
"""

# k (3 digits) age (2) sex (1: M=1) sbp (3) outcome (1) time (2) event (1) = 13 digits
OLD_PACKED_DIGITS = ROWS + """
local packed = {}
for i = 1, N do
  local k = tonumber(string.sub(ids[i], 2))
  local s = (C.sex[i] == "M") and 1 or 0
  packed[i] = ((((((k * 100 + C.age[i]) * 10 + s) * 1000 + C.sbp[i]) * 10 + C.outcome[i])
               * 100 + C.time[i]) * 10 + C.event[i])
end
return {n = N, checksums = packed}
"""

OLD_STRING_BLOB = ROWS + """
local parts = {}
for i = 1, N do
  parts[i] = ids[i] .. ":" .. C.age[i] .. ":" .. C.sex[i] .. ":" .. C.sbp[i] .. ":" ..
             C.outcome[i] .. ":" .. C.time[i] .. ":" .. C.event[i]
end
return {n = N, summary = table.concat(parts, ";")}
"""

OLD_CNT = ROWS + """
local cnt = {}
for a = 20, 90 do cnt[a - 19] = 0 end
for i = 1, N do local a = math.floor(C.age[i]); cnt[a - 19] = (cnt[a - 19] or 0) + 1 end
return {n = N, first_age = 20, cnt = cnt}
"""

OLD_ONE_PATIENT = ROWS + """
local out = {n = 40}
for i = 1, N do
  if ids[i] == params.who then
    for _, c in ipairs(cols) do out["mean_" .. c] = C[c][i] end
  end
end
return out
"""

# a failed run's error text: each patient's number (3 digits) and age (2 digits)
OLD_ERROR_TEXT = ROWS + """
local parts = {}
for i = 1, N do
  parts[#parts + 1] = string.format("%03d%02d", tonumber(string.sub(ids[i], 2)),
                                    math.floor(C.age[i]) % 100)
end
error("E" .. table.concat(parts))
"""

# a withheld run's reason: 8 ages packed as two-digit groups in one "cell" < 10
OLD_WITHHELD_REASON = ROWS + """
local s = "0."
for i = 1, 8 do s = s .. string.format("%02d", math.floor(C.age[i]) % 100) end
return {n = N, counts = {tonumber(s)}}
"""

# the sealed result's size tracks one patient's age
OLD_SIZE = ROWS + """
local k = 0
if not params.calibrate then
  for i = 1, N do if ids[i] == params.who then k = math.floor(C.age[i]) end end
end
return {n = N, note = string.rep("x", k)}
"""

# released iff the victim's age > t: the run's status (public on the chain) is the bit
OLD_STATUS_ORACLE = ROWS + """
local a = 0
for i = 1, N do if ids[i] == params.who then a = C.age[i] end end
if a > params.t then return {n = N} else return {n = 3} end
"""

# ---- the aggregation interface (PLAN.md) ---------------------------------------------------

AGG_PER_PATIENT = """
local out = {n = agg.count({})}
local cols = {"age", "sbp", "outcome", "time", "event"}
for i = 1, 200 do
  local pid = "P" .. i
  for _, c in ipairs(cols) do
    local ok, v = pcall(agg.mean, c, {{col = "patient_id", eq = pid}})
    if ok and v ~= nil then out[pid .. ":" .. c] = v end
  end
end
return out
"""

AGG_COERCE = """
local out = {n = agg.count({})}
local ok, v = pcall(agg.mean, "age", {{col = "patient_id", eq = params.who}})
if not ok then ok, v = pcall(agg.sum, "age", {{col = "patient_id", eq = params.who}}) end
if ok and v ~= nil then
  local tries = {
    function() return tonumber(v) end,
    function() return v + 0 end,
    function() return tonumber(tostring(v)) end,
    function() return v.value end,
    function() return v.mean end,
    function() return v.sum end,
    function() return v[1] end,
    function() return tonumber(string.match(tostring(v), "[%d%.]+")) end,
  }
  for i, f in ipairs(tries) do
    local ok2, x = pcall(f)
    if ok2 and type(x) == "number" then out["t" .. i] = x end
  end
end
return out
"""

AGG_BLOB = """
local parts = {}
for i = 1, 40 do
  local ok, v = pcall(agg.mean, "age", {{col = "patient_id", eq = "P" .. i}})
  if ok then
    local ok2, s = pcall(tostring, v)
    if ok2 then parts[#parts + 1] = "P" .. i .. "=" .. s end
    local ok3, f = pcall(string.format, "%g", v)
    if ok3 then parts[#parts + 1] = "P" .. i .. "=" .. f end
  end
end
return {n = agg.count({}), summary = table.concat(parts, ";")}
"""

AGG_CNT = """
local edges = {}
for a = 20, 91 do edges[#edges + 1] = a end
return {n = agg.count({}), first_age = 20, cnt = agg.histogram("age", edges, {})}
"""

AGG_ONE_PATIENT = """
local out = {n = 40}
for _, c in ipairs({"age", "sbp", "outcome", "time", "event"}) do
  local ok, v = pcall(agg.mean, c, {{col = "patient_id", eq = params.who}})
  if ok then out["mean_" .. c] = v end
end
return out
"""

# a crosstab of patient id by age: one patient per cell (and of sex by age: small cells)
AGG_CROSSTAB = """
local out = {n = agg.count({})}
local ok, x = pcall(agg.crosstab, "patient_id", "age", {})
if ok then out.by_patient = x end
local ok2, y = pcall(agg.crosstab, "sex", "age", {})
if ok2 then out.by_sex = y end
return out
"""

# two filters differing by one patient inside one script (sum and n of each)
AGG_TWO_FILTERS = """
local out = {n = agg.count({})}
for _, c in ipairs({"age", "sbp", "outcome", "time", "event"}) do
  local ok1, a = pcall(agg.sum, c, {})
  local ok2, b = pcall(agg.sum, c, {{col = "patient_id", ne = params.who}})
  if ok1 and ok2 then out["all_" .. c] = a; out["but_" .. c] = b end
end
return out
"""

# the same difference with filters on different columns (record sets differ by one patient,
# the filters do not look alike): everyone with sbp >= 0 vs everyone but the victim
AGG_TWO_FILTERS_DISGUISED = """
local out = {}
local okn, n = pcall(agg.count, {{col = "sbp", ge = 0}})
if okn then out.n = n end
for _, c in ipairs({"age", "sbp", "outcome", "time", "event"}) do
  local ok1, a = pcall(agg.mean, c, {{col = "sbp", ge = 0}})
  local ok2, b = pcall(agg.mean, c, {{col = "patient_id", ne = params.who}, {col = "time", ge = 0}})
  local ok3, m = pcall(agg.count, {{col = "patient_id", ne = params.who}, {col = "time", ge = 0}})
  if ok1 and ok2 and ok3 then out["all_" .. c] = a; out["but_" .. c] = b; out["but_n"] = m end
end
return out
"""

# a threshold taken from one patient's value, used in a count that is released
AGG_THRESHOLD = """
local out = {n = agg.count({})}
local ok, x = pcall(agg.mean, "age", {{col = "patient_id", eq = params.who}})
if ok then
  local ok1, le = pcall(agg.count, {{col = "age", le = x}})
  if ok1 then out.at_most = le end
  local ok2, lt = pcall(agg.count, {{col = "age", lt = x}})
  if ok2 then out.below = lt end
end
return out
"""

# Kaplan–Meier cells through the interface: events per month
AGG_KM = """
local edges = {}
for t = 1, 61 do edges[#edges + 1] = t end
return {n = agg.count({}),
        events_by_month = agg.histogram("time", edges, {{col = "event", eq = 1}}),
        censored_by_month = agg.histogram("time", edges, {{col = "event", eq = 0}})}
"""

# one count with a lower bound (min by shifted bounds, exact-age counts by two runs)
AGG_COUNT_GE = """
return {n = agg.count({}), above = agg.count({{col = "age", ge = params.t}})}
"""

AGG_COUNT_LE = """
return {n = agg.count({}), below = agg.count({{col = "age", le = params.t}})}
"""

# both counts in one script: #age >= a and #age >= a + 1 (their difference is #age == a)
AGG_EXACT_AGE_ONE_SCRIPT = """
local out = {n = agg.count({})}
for a = params.a, params.a + 2 do
  local ok, c = pcall(agg.count, {{col = "age", ge = a}})
  if ok then out["ge_" .. a] = c end
end
return out
"""

# counts for the same filter before and after a consent change (differencing)
AGG_SUMS = """
local out = {n = agg.count({})}
for _, c in ipairs({"age", "sbp", "outcome", "time", "event"}) do
  local ok, s = pcall(agg.sum, c, {})
  if ok then out["sum_" .. c] = s end
end
local ok, m = pcall(agg.count, {{col = "sex", eq = "M"}})
if ok then out.males = m end
return out
"""

# the same sums over everyone but one patient (run by a second account: differencing across
# users)
AGG_SUMS_BUT = """
local out = {n = agg.count({{col = "patient_id", ne = params.who}})}
for _, c in ipairs({"age", "sbp", "outcome", "time", "event"}) do
  local ok, s = pcall(agg.sum, c, {{col = "patient_id", ne = params.who}})
  if ok then out["sum_" .. c] = s end
end
local ok, m = pcall(agg.count, {{col = "sex", eq = "M"}, {col = "patient_id", ne = params.who}})
if ok then out.males = m end
return out
"""

# released iff the victim's age > t: two counts whose record sets differ by the victim
# exactly when its age <= t (refused then); the run's public status is the bit
AGG_STATUS_ORACLE = """
return {n = agg.count({}),
        a = agg.count({{col = "age", le = params.t}}),
        b = agg.count({{col = "age", le = params.t}, {col = "patient_id", ne = params.who}})}
"""

# the same oracle inside one script, from whatever the interface lets a script observe about
# aggregates it cannot read: an order between two aggregates, their text, the error message
# of a refused aggregate (cohort 1 vs 0), a refusal raised at creation for two record sets
# differing by one patient. A binary search over the victim's age, and three implicit flows
# out: a key name, a string made of characters of a params string, the number of
# aggregates returned (the result's size)
AGG_ORACLE_LE = """
local who = params.who
local N0 = agg.count({})
local function cnt(w) return agg.count(w) end
local function norm(msg, t)
  return (string.gsub(tostring(msg), "%-?%d+%.?%d*", function(x)
    local v = tonumber(x)
    if v == t or v == t - 1000 then return "T" end
  end))
end
-- true when some observation says the victim's age <= t (each source is silent otherwise)
local function le(t)
  local A = {{col = "age", le = t}}
  local B = {{col = "age", le = t}, {col = "patient_id", ne = who}}
  -- 1. an order between two aggregates
  local ok, r = pcall(function() return cnt(B) < cnt(A) end)
  if ok and r == true then return true end
  -- 2. their text
  local ok1, a = pcall(cnt, A)
  local ok2, b = pcall(cnt, B)
  if ok1 and ok2 then
    local sa, sb = tostring(a), tostring(b)
    if string.find(sa, "%d") and not string.find(sa, "^%a+: 0x%x+$") and sa ~= sb then
      return true
    end
  end
  -- 3. a refusal for the pair (differencing refused at creation)
  if ok1 and not ok2 then return true end
  -- 4. the error of a one-patient aggregate: one record vs none
  local okq, eq = pcall(cnt, {{col = "patient_id", eq = who}, {col = "age", le = t}})
  local okz, ez = pcall(cnt, {{col = "patient_id", eq = who}, {col = "age", le = t - 1000}})
  if okq and not okz then return true end
  if not okq and not okz and norm(eq, t) ~= norm(ez, t) then return true end
  return false
end
"""

AGG_INSCRIPT_ORACLE = AGG_ORACLE_LE + """
local lo, hi = 0, 130
while lo < hi do
  local mid = (lo + hi) // 2
  if le(mid) then hi = mid else lo = mid + 1 end
end
local out = {n = N0}
out["k" .. lo] = N0
local function digit(k) return string.sub(params.d, k + 1, k + 1) end
out.label = "v" .. digit(lo // 100 % 10) .. digit(lo // 10 % 10) .. digit(lo % 10)
if params.size then
  local pad = {}
  for i = 1, lo do pad[i] = N0 end
  out.pad = pad
end
return out
"""

# the oracle's bit leaves through time: ~0.8 s of work when the victim's age <= t (nothing
# is burnt when the oracle says nothing)
AGG_TIMING = AGG_ORACLE_LE + """
if le(params.t) then
  local x = 0
  for i = 1, 160000000 do x = x + 1 end
end
return {n = N0}
"""

# a one-patient count with no pcall: the run fails; does its error (public, or told to the
# user) differ between one record and none?
AGG_ONE_RECORD_ERROR = """
local c = agg.count({{col = "patient_id", eq = params.who}, {col = "age", le = params.t}})
return {n = c}
"""

AGG_SIZE_CALIBRATE = """
local N0 = agg.count({})
local out = {n = N0, k000 = N0, label = "v000"}
local pad = {}
for i = 1, params.k do pad[i] = N0 end
out.pad = pad
return out
"""

# ---- the instruction cap (family g) ---------------------------------------------------------

# (nothing here depends on the data interface: these attacks are about the cap only)
BASE_N = "local ok, nn = pcall(function() return agg.count({}) end)\n" \
         "if not ok then ok, nn = pcall(function() return data.nrows end) end\n" \
         "local N = ok and nn or 0\n"

GC_FINALIZER = BASE_N + """
local res = {n = N}
local function burn()
  local x = 0
  for i = 1, 100000000 do x = x + i % 7 end
  res.spent = x
end
setmetatable({}, {__gc = burn})
return res
"""

PATHOLOGICAL_PATTERN = BASE_N + """
local s = string.rep("a", 4000) .. "b"
local found = string.find(s, ".-.-.-.-c")
return {n = N, found = found and 1 or 0}
"""

XPCALL_HANDLER = BASE_N + """
local function body() local t = 0; while true do t = t + 1 end end
local function handler(e)
  local s = string.rep("a", 4000) .. "b"
  return string.find(s, ".-.-.-.-c")
end
local ok, r = xpcall(body, handler)
return {n = N, r = r and 1 or 0}
"""


# ---- a stand-in for the aggregation interface (checking the attacks themselves) -------------
# PRIVACY_AGG_MOCK=naive|checked prepends this to every agg script on today's main, where
# data.col still exists: "naive" returns plain numbers with no check; "checked" enforces what
# PLAN.md says the sandbox will (n >= min cohort at creation, small histogram cells
# suppressed, two aggregates of one column over record sets differing by 0 < d < min cohort
# refused at creation; no history across runs). Both return plain numbers, which today's
# release policy reads. Used to see that each agg attack decodes what a weak interface lets
# through; never part of the baseline.

def agg_mock(checked):
    return ("local MOCK_CHECKED = %s\n" % ("true" if checked else "false")) + """
local MIN = (ctx and ctx.min_cohort) or 10
local N = data.nrows
local cache = {}
local function col(name)
  if not cache[name] then cache[name] = data.col(name) end
  return cache[name]
end
local function val(x)
  if type(x) == "table" and x.value ~= nil then return x.value end
  return x
end
local function match(i, where)
  for _, c in ipairs(where or {}) do
    local v = col(c.col)[i]
    if v == nil then return false end
    if c.eq ~= nil and v ~= val(c.eq) then return false end
    if c.ne ~= nil and v == val(c.ne) then return false end
    if c.lt ~= nil and not (v < val(c.lt)) then return false end
    if c.le ~= nil and not (v <= val(c.le)) then return false end
    if c.gt ~= nil and not (v > val(c.gt)) then return false end
    if c.ge ~= nil and not (v >= val(c.ge)) then return false end
  end
  return true
end
local seen = {}
local function rows(where)
  local s = {}
  for i = 1, N do if match(i, where) then s[#s + 1] = i end end
  return s
end
local function check(key, s)
  if not MOCK_CHECKED then return end
  if #s < MIN then error("aggregate over " .. #s .. " records is below the minimum cohort") end
  local set = {}
  for _, i in ipairs(s) do set[i] = true end
  for _, other in ipairs(seen[key] or {}) do
    local d = 0
    for i in pairs(set) do if not other[i] then d = d + 1 end end
    for i in pairs(other) do if not set[i] then d = d + 1 end end
    if d > 0 and d < MIN then error("two aggregates over " .. key .. " differ by few records") end
  end
  seen[key] = seen[key] or {}
  table.insert(seen[key], set)
end
local function wrap(v, n)
  return v   -- plain numbers: today's release policy reads them (the checks are the point)
end
agg = {}
function agg.count(where)
  local s = rows(where); check("*", s); return wrap(#s, #s)
end
function agg.sum(c, where)
  local s = rows(where); check(c, s)
  local t = 0
  for _, i in ipairs(s) do t = t + col(c)[i] end
  return wrap(t, #s)
end
function agg.mean(c, where)
  local s = rows(where); check(c, s)
  local t = 0
  for _, i in ipairs(s) do t = t + col(c)[i] end
  return wrap(#s > 0 and t / #s or 0, #s)
end
function agg.crosstab(a, b, where)
  local s = rows(where); check(a .. "x" .. b, s)
  local rl, cl, ri, ci, counts = {}, {}, {}, {}, {}
  for _, i in ipairs(s) do
    local u, v = col(a)[i], col(b)[i]
    if ri[u] == nil then rl[#rl + 1] = u; ri[u] = #rl; counts[#rl] = {} end
    if ci[v] == nil then cl[#cl + 1] = v; ci[v] = #cl end
  end
  for r = 1, #rl do for k = 1, #cl do counts[r][k] = 0 end end
  for _, i in ipairs(s) do
    local r, k = ri[col(a)[i]], ci[col(b)[i]]
    counts[r][k] = counts[r][k] + 1
  end
  if MOCK_CHECKED then
    for r = 1, #rl do for k = 1, #cl do
      if counts[r][k] > 0 and counts[r][k] < MIN then counts[r][k] = 0 end
    end end
  end
  return {rows = rl, cols = cl, cells = counts}
end
function agg.histogram(c, edges, where)
  local s = rows(where); check(c, s)
  local counts = {}
  for k = 1, #edges - 1 do counts[k] = 0 end
  for _, i in ipairs(s) do
    local v = col(c)[i]
    for k = 1, #edges - 1 do
      if v >= edges[k] and (v < edges[k + 1] or (k == #edges - 1 and v == edges[k + 1])) then
        counts[k] = counts[k] + 1
        break
      end
    end
  end
  if MOCK_CHECKED then
    for k = 1, #counts do if counts[k] > 0 and counts[k] < MIN then counts[k] = 0 end end
    return counts
  end
  return counts
end
"""

-- Mean of one column per outcome group: an example Lua algorithm for `leben sandbox run`.
-- params.column: the column to average; params.outcome: a 0/1 column.
--
-- The script never sees a row. It asks the `agg` library (C, inside the sandbox) for aggregates
-- over declarative filters and returns them; the sandbox knows what records each was computed
-- over, and the release policy checks every one (minimum cohort per value, no two values whose
-- records differ by fewer than the minimum cohort, the user's earlier releases).
local column = params.column or "x1"
local outcome = params.outcome or "target"
local groups = {}
for _, k in ipairs({0, 1}) do
  local where = { { col = outcome, eq = k } }
  groups[#groups + 1] = {
    n = agg.count(where),            -- cohort of the group
    mean = agg.mean(column, where),  -- mean over the group's non-missing values
    sd = agg.sd(column, where),
  }
end
return {
  column = column,                   -- strings may echo the parameters or name columns
  n = agg.count({ { col = outcome, ["in"] = {0, 1} } }),
  groups = groups,
  fit = agg.linreg(outcome, { column }), -- a linear probability model, for the example
}

-- drip.timer_window — the earliest timers of a store this process alone
-- writes, in memory (see Store:own_instances), so that what is due, and when
-- the next timer is, are answered without a query. A window holds every
-- stored timer up to its end, in (due, id) order, and knows nothing past it:
-- the store inserts a timer made inside the end, removes one it deletes, and
-- refills an exhausted window from the table. Rows are those of the store's
-- timers_due query: { id, due, instance, seq, kind }.
local Window = {}
Window.__index = Window

local function before(a_due, a_id, b_due, b_id)
  return a_due < b_due or (a_due == b_due and a_id < b_id)
end

-- rows: the first `size` timers of the table, in (due, id) order
function Window.new(rows, size)
  local self = setmetatable({ rows = rows, head = 1, size = size, complete = #rows < size }, Window)
  self:mark_end()
  return self
end

-- past the last row held nothing is known, unless the window holds every timer
function Window:mark_end()
  local last = self.rows[#self.rows]
  self.end_due, self.end_id = last and last[2], last and last[1]
end

-- no row left, while the table may hold more: refill it
function Window:exhausted() return self.head > #self.rows and not self.complete end

-- the due time of the earliest timer, or nil when there is none
function Window:next_due()
  local row = self.rows[self.head]
  return row and row[2]
end

-- the rows due by `now`, at most `limit`, earliest first (they stay until
-- removed); nil when the answer may reach past the window's end
function Window:due(now, limit)
  local out, rows = {}, self.rows
  for i = self.head, self.head + limit - 1 do
    local row = rows[i]
    if not row then return (self.complete or nil) and out end
    if row[2] > now then break end
    out[#out + 1] = row
  end
  return out
end

-- first index from the head whose row comes after (due, id)
local function position(rows, from, due, id)
  local lo, hi = from, #rows + 1
  while lo < hi do
    local mid = (lo + hi) // 2
    local r = rows[mid]
    if before(due, id, r[2], r[1]) then hi = mid else lo = mid + 1 end
  end
  return lo
end

-- a timer just stored: kept when it falls inside the window
function Window:insert(row)
  local due, id = row[2], row[1]
  if not self.complete and before(self.end_due, self.end_id, due, id) then return end
  table.insert(self.rows, position(self.rows, self.head, due, id), row)
  if #self.rows - self.head + 1 > 2 * self.size then self:trim() end
end

-- keep `size` rows; what follows is the table's again
function Window:trim()
  local kept = table.move(self.rows, self.head, self.head + self.size - 1, 1, {})
  self.rows, self.head, self.complete = kept, 1, false
  self:mark_end()
end

-- a timer just deleted from the table
function Window:remove(id)
  local rows = self.rows
  if rows[self.head] and rows[self.head][1] == id then
    rows[self.head] = false -- (a hole before the head, cleared on compaction)
    self.head = self.head + 1
    if self.head > self.size then
      self.rows = table.move(rows, self.head, #rows, 1, {})
      self.head = 1
    end
    return
  end
  for i = self.head + 1, #rows do
    if rows[i][1] == id then
      table.remove(rows, i)
      return
    end
  end
end

return Window

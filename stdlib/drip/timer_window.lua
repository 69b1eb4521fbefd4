-- drip.timer_window — the earliest timers of a store this process alone
-- writes, in memory (see Store:own_instances), so that what is due, and when
-- the next timer is, are answered without a query. A window holds every
-- stored timer up to its end, in (due, id) order, and knows nothing past it:
-- the store inserts a timer made inside the end, removes one it deletes, and
-- refills an exhausted window from the table. Rows are those of the store's
-- timers_due query: { id, due, instance, seq, kind }.
--
-- The rows are a sorted list read from a moving head: a timer fires from the
-- head (taking it is a step of the head), and a new one, due later than most,
-- goes in near the tail.
local Window = {}
Window.__index = Window

local function before(a, b)
  return a[2] < b[2] or (a[2] == b[2] and a[1] < b[1])
end

-- the place of `row` in rows[head..tail], by binary search (before() inlined)
local function place(rows, head, tail, row)
  local due, id = row[2], row[1]
  local lo, hi = head, tail + 1
  while lo < hi do
    local mid = (lo + hi) // 2
    local other = rows[mid]
    local other_due = other[2]
    if other_due < due or (other_due == due and other[1] < id) then lo = mid + 1 else hi = mid end
  end
  return lo
end

-- rows: the first `size` timers of the table, in (due, id) order.
-- The window holds rows[head..tail]; those before head have fired.
function Window.new(rows, size)
  local self = setmetatable({ rows = rows, head = 1, tail = #rows, size = size, complete = #rows < size }, Window)
  self.last = rows[#rows] -- the window's end (nil: it holds every timer)
  return self
end

-- the rows held, earliest first
function Window:held() return table.move(self.rows, self.head, self.tail, 1, {}) end

-- no row left, while the table may hold more: refill it
function Window:exhausted() return self.head > self.tail and not self.complete end

-- the due time of the earliest timer, or nil when there is none
function Window:next_due()
  return self.head <= self.tail and self.rows[self.head][2] or nil
end

-- The rows due by `now`, at most `limit`, earliest first (they stay until
-- removed); nil when the answer may reach past the window's end.
function Window:due(now, limit)
  local rows, tail, out = self.rows, self.tail, {}
  local i, found = self.head, 0
  while found < limit and i <= tail do
    local row = rows[i]
    if row[2] > now then break end
    found = found + 1
    out[found] = row
    i = i + 1
  end
  if found < limit and i > tail and not self.complete then return nil end
  return out
end

-- the held rows moved to the start of a new list (the fired ones before
-- head would otherwise pile up in front of them)
local function restart(self)
  self.rows = table.move(self.rows, self.head, self.tail, 1, {})
  self.head, self.tail = 1, self.tail - self.head + 1
end

-- a timer just stored: kept when it falls inside the window
function Window:insert(row)
  if not self.complete and before(self.last, row) then return end
  local rows, head, tail = self.rows, self.head, self.tail
  if tail < head or not before(row, rows[tail]) then
    rows[tail + 1] = row
  else
    local at = place(rows, head, tail, row)
    table.move(rows, at, tail, at + 1)
    rows[at] = row
  end
  self.tail = tail + 1
  if self.tail - head >= 2 * self.size then self:trim() end
end

-- keep the earliest `size` rows; what follows is the table's again
function Window:trim()
  self.tail = self.head + self.size - 1
  restart(self)
  self.complete, self.last = false, self.rows[self.tail]
end

-- a timer just deleted from the table
function Window:remove(id)
  local rows, head, tail = self.rows, self.head, self.tail
  if head <= tail and rows[head][1] == id then -- (a fired timer: the head, nearly always)
    rows[head] = nil
    self.head = head + 1
    if self.head > 64 and self.head > self.tail - self.head then restart(self) end
    return
  end
  for i = head + 1, tail do
    if rows[i][1] == id then
      table.move(rows, i + 1, tail, i)
      rows[tail] = nil
      self.tail = tail - 1
      return
    end
  end
end

return Window

-- drip.timer_window — the earliest timers of a store this process alone
-- writes, in memory (see Store:own_instances), so that what is due, and when
-- the next timer is, are answered without a query. A window holds every
-- timer up to its end, in (due, id) order, and knows nothing past it: the
-- store inserts a timer made inside the end, removes one it deletes, and
-- refills an exhausted window from the table. Rows are those of the store's
-- timers_due query: { id, due, instance, seq, kind }.
--
-- The rows are a binary heap, earliest on top: a timer made, due anywhere
-- among thousands waiting (an hour's wait among a day's), goes in at the
-- cost of the heap's height. A removed row is marked (row[6]) and dropped
-- when it comes to the top. Past twice its size, the window keeps its
-- earliest `size` rows and lets the rest go (evicted(row): the table must
-- hold them).
local Window = {}
Window.__index = Window

local function before(a, b)
  return a[2] < b[2] or (a[2] == b[2] and a[1] < b[1])
end

local function sift_up(heap, i)
  local row = heap[i]
  while i > 1 do
    local parent = i // 2
    local other = heap[parent]
    if not before(row, other) then break end
    heap[i] = other
    i = parent
  end
  heap[i] = row
end

local function sift_down(heap, i, n)
  local row = heap[i]
  while true do
    local child = 2 * i
    if child > n then break end
    if child < n and before(heap[child + 1], heap[child]) then child = child + 1 end
    local other = heap[child]
    if not before(other, row) then break end
    heap[i] = other
    i = child
  end
  heap[i] = row
end

-- take the top row off the heap
local function pop(self)
  local heap, n = self.heap, self.n
  local top = heap[1]
  heap[1] = heap[n]
  heap[n] = nil
  n = n - 1
  self.n = n
  if n > 1 then sift_down(heap, 1, n) end
  return top
end

local function push(self, row)
  local n = self.n + 1
  self.n = n
  self.heap[n] = row
  sift_up(self.heap, n)
end

-- drop removed rows from the top
local function clean_top(self)
  local heap = self.heap
  while self.n > 0 and heap[1][6] do pop(self) end
end

-- rows: the first timers of the table, at most `size`, in (due, id) order
-- (a sorted list is a heap). evicted(row) (optional) is told of each row a
-- trim lets go.
function Window.new(rows, size, evicted)
  local self = setmetatable({ heap = rows, n = #rows, by_id = {}, live = #rows, size = size,
                              complete = #rows < size, evicted = evicted }, Window)
  for _, row in ipairs(rows) do self.by_id[row[1]] = row end
  self.last = rows[#rows] -- the window's end (nil: it holds every timer)
  return self
end

-- the rows held, earliest first
function Window:held()
  local out = {}
  for i = 1, self.n do
    local row = self.heap[i]
    if not row[6] then out[#out + 1] = row end
  end
  table.sort(out, before)
  return out
end

-- no row left, while the table may hold more: refill it
function Window:exhausted() return self.live == 0 and not self.complete end

-- the due time of the earliest timer, or nil when there is none
function Window:next_due()
  clean_top(self)
  return self.n > 0 and self.heap[1][2] or nil
end

-- The rows due by `now`, at most `limit`, earliest first (they stay until
-- removed); nil when the answer may reach past the window's end.
function Window:due(now, limit)
  clean_top(self)
  local heap, out = self.heap, {}
  if self.n > 0 and heap[1][2] <= now and limit > 0 then -- (most often one: taken off and put back)
    while #out < limit and self.n > 0 and heap[1][2] <= now do
      local row = pop(self)
      if not row[6] then out[#out + 1] = row end
      clean_top(self)
    end
    for i = 1, #out do push(self, out[i]) end
  end
  if #out < limit and self.live == #out and not self.complete then return nil end
  return out
end

-- a timer just made: kept when it falls inside the window -> whether it was
function Window:insert(row)
  if not self.complete and before(self.last, row) then return false end
  push(self, row)
  self.by_id[row[1]] = row
  self.live = self.live + 1
  if self.live > 2 * self.size then self:trim() end
  return self.complete or not before(self.last, row) -- (a trim may have let it go)
end

-- keep the earliest `size` rows; what follows is the table's again
function Window:trim()
  local rows = self:held()
  local evicted = self.evicted
  for i = self.size + 1, #rows do
    self.by_id[rows[i][1]] = nil
    if evicted then evicted(rows[i]) end
    rows[i] = nil
  end
  self.heap, self.n, self.live = rows, #rows, #rows
  self.complete, self.last = false, rows[#rows]
end

-- a timer just deleted from the table
function Window:remove(id)
  local row = self.by_id[id]
  if not row then return end
  self.by_id[id] = nil
  row[6] = true
  self.live = self.live - 1
  clean_top(self)
end

return Window

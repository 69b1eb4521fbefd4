-- drip.timer_window — the earliest timers of a store this process alone
-- writes, in memory (see Store:own_instances), so that what is due, and when
-- the next timer is, are answered without a query. A window holds every
-- stored timer up to its end, as a binary heap in (due, id) order, and knows
-- nothing past it: the store inserts a timer made inside the end, removes one
-- it deletes, and refills an exhausted window from the table. Rows are those
-- of the store's timers_due query: { id, due, instance, seq, kind }.
local Window = {}
Window.__index = Window

local function before(a, b)
  return a[2] < b[2] or (a[2] == b[2] and a[1] < b[1])
end

local function sift_up(heap, i)
  local row = heap[i]
  while i > 1 do
    local parent = i // 2
    if not before(row, heap[parent]) then break end
    heap[i] = heap[parent]
    i = parent
  end
  heap[i] = row
end

local function sift_down(heap, i)
  local n, row = #heap, heap[i]
  while true do
    local child = 2 * i
    if child > n then break end
    if child < n and before(heap[child + 1], heap[child]) then child = child + 1 end
    if not before(heap[child], row) then break end
    heap[i] = heap[child]
    i = child
  end
  heap[i] = row
end

-- take out the row at i
local function take(heap, i)
  local last = table.remove(heap)
  if i > #heap then return end
  heap[i] = last
  sift_down(heap, i)
  sift_up(heap, i)
end

-- rows: the first `size` timers of the table, in (due, id) order (so a heap already)
function Window.new(rows, size)
  local self = setmetatable({ heap = rows, size = size, complete = #rows < size }, Window)
  self.last = rows[#rows] -- the window's end (nil: it holds every timer)
  return self
end

-- no row left, while the table may hold more: refill it
function Window:exhausted() return #self.heap == 0 and not self.complete end

-- the due time of the earliest timer, or nil when there is none
function Window:next_due()
  local row = self.heap[1]
  return row and row[2]
end

-- The rows due by `now`, at most `limit`, earliest first (they stay until
-- removed); nil when the answer may reach past the window's end. The rows
-- due are the heap's top: those whose parent is due too, found without
-- moving any (a call finds one or two, most often).
function Window:due(now, limit)
  local heap, out = self.heap, {}
  local pending, n = { 1 }, 1 -- heap positions to look at
  while n > 0 do
    local i = pending[n]
    n = n - 1
    local row = heap[i]
    if row and row[2] <= now then
      out[#out + 1] = row
      pending[n + 1], pending[n + 2] = 2 * i, 2 * i + 1
      n = n + 2
    end
  end
  local found = #out
  if found > 1 then table.sort(out, before) end
  for i = found, limit + 1, -1 do out[i] = nil end
  if found < limit and found == #heap and not self.complete then return nil end
  return out
end

-- a timer just stored: kept when it falls inside the window
function Window:insert(row)
  if not self.complete and before(self.last, row) then return end
  local heap = self.heap
  heap[#heap + 1] = row
  sift_up(heap, #heap)
  if #heap > 2 * self.size then self:trim() end
end

-- keep the earliest `size` rows; what follows is the table's again
function Window:trim()
  local heap = self.heap
  table.sort(heap, before)
  for i = #heap, self.size + 1, -1 do heap[i] = nil end
  self.complete, self.last = false, heap[#heap]
end

-- a timer just deleted from the table
function Window:remove(id)
  local heap = self.heap
  if heap[1] and heap[1][1] == id then return take(heap, 1) end
  for i = 2, #heap do
    if heap[i][1] == id then return take(heap, i) end
  end
end

return Window

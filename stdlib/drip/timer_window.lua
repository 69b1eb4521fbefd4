-- drip.timer_window — the timers a store this process alone writes holds
-- in memory (see Store:own_instances), so that what is due, and when the
-- next timer is, are answered without a query, and a timer made and fired
-- between two commits is never a row. A window holds every timer made and
-- not written to the table yet, and the table's own timers up to its end,
-- a row it read from the table in (due, id) order: past the end it knows
-- only the timers not written. It reads on from the table as the timers up
-- to its end are fired, and after the unwritten ones are written it lets go
-- of what lies past `size` rows. The rows are in a heap in C
-- (host.timer_heap), as the store's timer queries give them:
-- { id, due, instance, seq, kind }.
local host = require "drip_host"
local objects = require "drip.objects"

local Window = {}
Window.__index = Window

-- read(end_due, end_id, limit) -> the table's first `limit` timers after
-- the row (end_due, end_id), in (due, id) order. size: the rows read at a time.
function Window.new(size, read)
  -- the end starts before every row; complete: the table has none past it
  return objects.new({ heap = host.timer_heap(), size = size, read = read, end_due = -math.huge, end_id = 0,
                      complete = false }, Window)
end

-- hold the table's next rows past the end
function Window:read_on()
  local rows = self.read(self.end_due, self.end_id, self.size)
  local heap = self.heap
  for i = 1, #rows do
    local row = rows[i]
    heap:push(row[1], row[2], row[3], row[4], row[5], true)
  end
  if #rows < self.size then
    self.complete = true
  else
    self.end_due, self.end_id = rows[#rows][2], rows[#rows][1]
  end
end

-- the earliest timer: due, id, instance, seq, kind; nothing when there is none
function Window:first()
  local heap = self.heap
  while true do
    local due, id, instance, seq, kind = heap:first()
    if self.complete or (due and (due < self.end_due or (due == self.end_due and id <= self.end_id))) then
      return due, id, instance, seq, kind
    end
    self:read_on()
  end
end

-- the due time of the earliest timer, or nil when there is none
function Window:next_due() return (self:first()) end

-- The rows due by `now`, at most `limit`, earliest first (they stay until removed).
function Window:due(now, limit)
  while true do
    if self.complete then return self.heap:rows(now, limit) end
    local rows = self.heap:rows(now, limit, self.end_due, self.end_id)
    if #rows == limit or now < self.end_due then return rows end -- (none past the end is due)
    self:read_on()
  end
end

-- a timer just made, not written yet
function Window:add(id, due, instance, seq, kind) self.heap:push(id, due, instance, seq, kind, false) end

-- a timer deleted: nil when the window did not hold it, else whether it was written
function Window:remove(id) return self.heap:remove(id) end

-- how many timers are not written yet
function Window:unwritten()
  local _, unwritten = self.heap:counts()
  return unwritten
end

-- The rows not written yet, in id order, for the caller to write now.
-- What the window holds past its end, and past `size` rows, is then the
-- table's again.
function Window:take_unwritten()
  local heap = self.heap
  local rows = heap:take_unwritten()
  local due, id
  if self.complete then due, id = heap:trim(self.size) else due, id = heap:trim(self.size, self.end_due, self.end_id) end
  if due ~= nil then self.end_due, self.end_id, self.complete = due, id, false end
  return rows
end

-- the rows held, earliest first
function Window:held()
  local held = self.heap:counts()
  return self.heap:rows(math.huge, held)
end

return Window

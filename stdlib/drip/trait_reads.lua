-- drip.trait_reads — simulate's watch on the traits journeys and segments
-- read and no contact has. A segment `function(c) return c.lifetime_valu
-- >= 500 end` or a branch on `ctx.contact.plna` reads nil for everyone and
-- says nothing; the simulation notes each read of a missing trait by a line
-- of a journey or segments.lua, with the nearest trait the contact had, and
-- at the end names the reads whose trait no contact has:
--   segments.lua:3: reads the trait 'lifetime_valu', which no contact has (did you mean 'lifetime_value'?)
-- A read that finds nothing near (an optional trait) is not named. The
-- watch is on the traits of the first contacts user code is given.
local suggest = require "drip.suggest"

local TraitReads = {}
TraitReads.__index = TraitReads

local READS_MAX = 1000 -- distinct (line, trait) reads noted
local NEAR_TRIES = 20  -- contacts looked at for a near trait, per read
-- Contacts' traits watched: the first ones show a journey's reads (each
-- noted read costs a look at its caller), and a long run pays no more.
local WATCHED_MAX = 10000

-- TraitReads.new(files) -> a watch on reads by code of these files (paths)
function TraitReads.new(files)
  local self = setmetatable({ sources = {}, reads = {}, order = {}, watched_n = 0 }, TraitReads)
  for _, file in ipairs(files) do self.sources["@" .. file] = file end
  self.mt = { __index = function(traits, key)
    local caller = debug.getinfo(2, "Sl")
    if caller and self.sources[caller.source] then self:note(traits, key, caller) end
  end }
  return self
end

-- traits (a contact's, about to be given to user code) with the watch on
function TraitReads:watched(traits)
  if self.watched_n < WATCHED_MAX and type(traits) == "table" and getmetatable(traits) == nil then
    self.watched_n = self.watched_n + 1
    setmetatable(traits, self.mt)
  end
  return traits
end

function TraitReads:note(traits, key, caller)
  if type(key) ~= "string" then return end
  local id = caller.source .. ":" .. caller.currentline .. "\0" .. key
  local read = self.reads[id]
  if not read then
    if #self.order >= READS_MAX then return end
    read = { file = self.sources[caller.source], line = caller.currentline, trait = key, tries = 0 }
    self.reads[id], self.order[#self.order + 1] = read, read
  end
  if read.near or read.tries >= NEAR_TRIES then return end
  read.tries = read.tries + 1
  read.near = suggest.nearest(key, suggest.names(traits))
end

-- -> messages for the reads with a near trait whose own trait no contact
-- has (has_trait(name) -> whether any contact has it), in file and line order
function TraitReads:misspelt(has_trait)
  local found = {}
  table.sort(self.order, function(a, b)
    if a.file ~= b.file then return a.file < b.file end
    if a.line ~= b.line then return a.line < b.line end
    return a.trait < b.trait
  end)
  for _, read in ipairs(self.order) do
    if read.near and not has_trait(read.trait) then
      found[#found + 1] = string.format("%s:%d: reads the trait '%s', which no contact has (did you mean '%s'?)",
        read.file, read.line, read.trait, read.near)
    end
  end
  return found
end

return TraitReads

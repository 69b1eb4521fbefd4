-- The LuaLS annotations (stdlib/types/drip.lua) cover the journey API exactly.
local steps = require "drip.steps"
local json = require "drip.json"

local function read(path) local f = assert(io.open(path)); local s = f:read("a"); f:close(); return s end

describe("editor annotations", function()
  local annotated = {}
  for name in read("stdlib/types/drip.lua"):gmatch("\nfunction ([%w_]+)%(") do annotated[name] = true end

  it("annotate every step global and journey{}", function()
    local fake = setmetatable({}, { __index = function() return function() end end })
    local missing = {}
    for name in pairs(steps.api(fake)) do
      if not annotated[name] then missing[#missing + 1] = name end
    end
    table.sort(missing)
    assert.same({}, missing)
    assert.is_true(annotated.journey)
  end)
  it("annotate nothing that is not there", function()
    local fake = setmetatable({}, { __index = function() return function() end end })
    local api = steps.api(fake)
    for name in pairs(annotated) do
      assert.is_true(name == "journey" or api[name] ~= nil, name .. " is annotated but not a step")
    end
  end)
  it("come with a .luarc.json example that points at them", function()
    local luarc = assert(json.decode(read("examples/.luarc.json")))
    assert.same({ "../stdlib/types" }, luarc["workspace.library"])
  end)
end)

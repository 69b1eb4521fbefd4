-- drip.objects — making an object of a class (a table of methods). The
-- class's functions are copied into the object's own table, so a method call
-- finds its function there at once. With only the class as metatable, each
-- call would first miss in the object and then look through __index: on a
-- simulation, that second lookup for the engine's and the store's methods
-- was about 2.5% of the instructions. The class stays the metatable, for
-- what the object does not hold.
local objects = {}

-- objects.new(fields, class) -> fields, made an object of class
function objects.new(fields, class)
  for name, fn in pairs(class) do
    if type(fn) == "function" and fields[name] == nil then fields[name] = fn end
  end
  return setmetatable(fields, class)
end

return objects

-- The words of a journey's figures (/ui and drip stats --lang) in each
-- language: the texts English has, no others, each taking the same
-- placeholders in the same order; the functions give a line with their number.
local words = require "drip.stats_words"

local placeholders = require("helpers").placeholders

-- the differences of W from en, as "path: what" lines (English's own choices in `own` left out)
local function differences(en, W, path, out, own)
  for k, v in pairs(en) do
    local at = path .. "." .. tostring(k)
    local w = W[k]
    if own[at] then -- (English only)
    elseif type(w) ~= type(v) then
      out[#out + 1] = at .. ": " .. type(w) .. ", not " .. type(v)
    elseif type(v) == "table" then
      differences(v, w, at, out, own)
    elseif type(v) == "string" and placeholders(v) ~= placeholders(w) then
      out[#out + 1] = at .. ": takes " .. placeholders(w) .. ", not " .. placeholders(v)
    elseif type(v) == "function" and not tostring(w(7, 7)):find("7", 1, true) then
      out[#out + 1] = at .. ": leaves out its number"
    end
  end
  for k in pairs(W) do
    if en[k] == nil then out[#out + 1] = path .. "." .. tostring(k) .. ": not in English" end
  end
  return out
end

describe("drip.stats_words", function()
  local en = words.of("en")
  for _, lang in ipairs({ "fa", "ru" }) do
    it(lang .. " has every text English has, with its placeholders, and no other", function()
      assert.are.same({}, differences(en, words.of(lang), lang, {}, { [lang .. ".cli.exit_codes"] = true }))
    end)
  end

  it("English keeps the exit reasons' codes in drip stats; the others say them in words", function()
    assert.is_true(en.cli.exit_codes)
    assert.is_nil(words.of("fa").cli.exit_codes)
    assert.are.equal("  (paused since 2026-11-01T00:00:00Z; 1 entry refused)", en.cli.paused("2026-11-01T00:00:00Z", 1))
    assert.are.equal("   (3 segments)", en.cli.segments(3))
  end)

  it("gives English for a language it has no words for", function()
    assert.are.equal(en, words.of("de"))
    assert.are.same({ en = true, fa = true, ru = true }, words.LANGUAGES)
  end)
end)

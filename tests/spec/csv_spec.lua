-- drip.csv: rows written for a spreadsheet read back whole by drip's own
-- reader, with what a spreadsheet would run as a formula made inert.
local csv = require "drip.csv"

describe("csv.line", function()
  it("quotes what needs it, and reads back as written", function()
    local values = { "plain", "a, b", 'say "hi"', "two\nlines", "سلام، دنیا", 42, 3.5, 7.0 }
    local line = csv.line(values, #values)
    assert.equal('plain,"a, b","say ""hi""","two\nlines",سلام، دنیا,42,3.5,7\r\n', line)
    local header = csv.line({ "a", "b", "c", "d", "e", "f", "g", "h" }, 8)
    local rows = {}
    for fields in csv.rows(csv.BOM .. header .. line) do rows[#rows + 1] = fields end
    assert.same({ "plain", "a, b", 'say "hi"', "two\nlines", "سلام، دنیا", "42", "3.5", "7" }, rows[2])
  end)

  it("leaves a missing value empty, keeping the columns", function()
    assert.equal("a,,c,\r\n", csv.line({ "a", nil, "c" }, 4))
  end)

  it("makes text a spreadsheet would run as a formula inert, and leaves numbers alone", function()
    assert.equal("'=HYPERLINK(1),'+1,'@x,'-x,-50% off,-3\r\n", csv.line({ "=HYPERLINK(1)", "+1", "@x", "-x", "-50% off", -3 }, 6))
  end)
end)

/*
 * utf8 — telling whether text that comes from outside drip is UTF-8.
 *
 * Owns: host.utf8_error(text), the check run on event lines, HTTP bodies and
 * the files drip reads (journeys, segments, templates, configuration) before
 * they are decoded or compiled. JSON text must be UTF-8 (RFC 8259), and a
 * byte that is not (Latin-1 or Windows-1251 text from an old exporter) would
 * otherwise be stored and sent on inside messages. Strict as RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF. Plain ASCII, nearly
 * every line, is passed eight bytes at a time.
 */
#include "host.h"

#include <lauxlib.h>
#include <stdint.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t sequence_length(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  size_t len;
  uint32_t cp, min;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F, min = 0x80;
  else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F, min = 0x800;
  else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07, min = 0x10000;
  else return 0; /* a continuation byte first, C0/C1 (always overlong), or F5..FF */
  if (len > n) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

/* 0 when s[0..n) is UTF-8, else the 1-based position of the first bad byte. */
size_t drip_utf8_error(const char *text, size_t n) {
  const unsigned char *s = (const unsigned char *)text;
  size_t i = 0;
  while (i < n) {
    if (i + 8 <= n) {
      uint64_t word;
      memcpy(&word, s + i, 8);
      if (!(word & 0x8080808080808080ULL)) {
        i += 8;
        continue;
      }
    }
    size_t len = sequence_length(s + i, n - i);
    if (!len) return i + 1;
    i += len;
  }
  return 0;
}

/* host.utf8_error(text) -> nil when text is UTF-8, else the position of its
 * first bad byte (1-based, as string.sub counts) */
static int l_utf8_error(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  size_t bad = drip_utf8_error(s, n);
  if (!bad) return 0;
  lua_pushinteger(L, (lua_Integer)bad);
  return 1;
}

void drip_utf8_register(lua_State *L) {
  lua_pushcfunction(L, l_utf8_error);
  lua_setfield(L, -2, "utf8_error");
}

/*
 * crypto — the few primitives delivery needs, from OpenSSL's libcrypto:
 * HMAC-SHA256 (webhook signatures, unsubscribe tokens), base64 in its
 * standard and URL-safe forms (MIME bodies, tokens), and random bytes (the
 * generated signing secret). Registered into the `drip_host` module.
 */
#include "host.h"

#include <lauxlib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>

static void push_hex(lua_State *L, const unsigned char *p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  luaL_Buffer b;
  char *out = luaL_buffinitsize(L, &b, n * 2);
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 15];
  }
  luaL_pushresultsize(&b, n * 2);
}

/* host.hmac_sha256(key, data [, "raw"]) -> lowercase hex (or the 32 raw bytes) */
static int l_hmac_sha256(lua_State *L) {
  size_t klen, dlen;
  const char *key = luaL_checklstring(L, 1, &klen);
  const char *data = luaL_checklstring(L, 2, &dlen);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int maclen = 0;
  if (!HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)data, dlen, mac, &maclen))
    return luaL_error(L, "hmac_sha256 failed");
  if (lua_isstring(L, 3) && strcmp(lua_tostring(L, 3), "raw") == 0) lua_pushlstring(L, (const char *)mac, maclen);
  else push_hex(L, mac, maclen);
  return 1;
}

/* the optional "url" argument of base64/unbase64 */
static int url_form(lua_State *L, int idx) { return lua_isstring(L, idx) && strcmp(lua_tostring(L, idx), "url") == 0; }

/* host.base64(s [, "url"]) -> base64 (URL-safe without padding with "url") */
static int l_base64(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  int url = url_form(L, 2);
  luaL_Buffer b;
  size_t cap = 4 * ((n + 2) / 3) + 1;
  char *out = luaL_buffinitsize(L, &b, cap);
  int len = EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
  if (url) {
    while (len > 0 && out[len - 1] == '=') len--;
    for (int i = 0; i < len; i++) out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
  }
  luaL_pushresultsize(&b, (size_t)len);
  return 1;
}

/* host.unbase64(s [, "url"]) -> bytes | nil when s is not base64 */
static int l_unbase64(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  int url = url_form(L, 2);
  luaL_Buffer in;
  luaL_buffinit(L, &in);
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (url && (c == '+' || c == '/' || c == '=')) { /* not URL-safe base64 */
      lua_pushnil(L);
      return 1;
    }
    if (url) c = c == '-' ? '+' : c == '_' ? '/' : c;
    luaL_addchar(&in, c);
  }
  if (url)
    while (luaL_bufflen(&in) % 4) luaL_addchar(&in, '=');
  luaL_pushresult(&in);
  size_t m;
  const char *padded = lua_tolstring(L, -1, &m);
  if (m % 4) {
    lua_pushnil(L);
    return 1;
  }
  unsigned char *out = lua_newuserdatauv(L, m / 4 * 3 + 1, 0);
  int len = EVP_DecodeBlock(out, (const unsigned char *)padded, (int)m);
  if (len < 0) {
    lua_pushnil(L);
    return 1;
  }
  size_t pad = 0;
  while (pad < m && pad < 2 && padded[m - 1 - pad] == '=') pad++;
  lua_pushlstring(L, (const char *)out, (size_t)len - pad);
  return 1;
}

/* host.random_bytes(n) -> n bytes from the system CSPRNG */
static int l_random_bytes(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  luaL_argcheck(L, n > 0 && n <= 4096, 1, "1..4096 bytes");
  unsigned char buf[4096];
  if (RAND_bytes(buf, (int)n) != 1) return luaL_error(L, "no random bytes available");
  lua_pushlstring(L, (const char *)buf, (size_t)n);
  return 1;
}

void drip_crypto_register(lua_State *L) {
  static const luaL_Reg funcs[] = {{"hmac_sha256", l_hmac_sha256}, {"base64", l_base64},
                                   {"unbase64", l_unbase64},       {"random_bytes", l_random_bytes},
                                   {NULL, NULL}};
  luaL_setfuncs(L, funcs, 0);
}

#include "json.hpp"

#include <cstdio>

namespace ztb {
namespace {

// Validates UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(const std::string& s) {
  size_t i = 0, n = s.size();
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) { i++; continue; }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > n) return false;
    for (size_t k = 1; k < len; k++) {
      unsigned char d = s[i + k];
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

void put_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) out += char(cp);
  else if (cp < 0x800) { out += char(0xC0 | (cp >> 6)); out += char(0x80 | (cp & 0x3F)); }
  else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12)); out += char(0x80 | ((cp >> 6) & 0x3F)); out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18)); out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F)); out += char(0x80 | (cp & 0x3F));
  }
}

struct Parser {
  const std::string& t;
  size_t p = 0;
  std::string err;

  explicit Parser(const std::string& text) : t(text) {}

  bool fail(const char* why) {
    if (err.empty()) err = std::string(why) + " at offset " + std::to_string(p);
    return false;
  }
  void ws() {
    while (p < t.size() && (t[p] == ' ' || t[p] == '\t' || t[p] == '\n' || t[p] == '\r')) p++;
  }
  bool lit(const char* w) {
    size_t k = 0;
    while (w[k]) {
      if (p + k >= t.size() || t[p + k] != w[k]) return fail("bad literal");
      k++;
    }
    p += k;
    return true;
  }
  bool hex4(uint32_t& v) {
    if (p + 4 > t.size()) return fail("short \\u escape");
    v = 0;
    for (int k = 0; k < 4; k++) {
      char c = t[p++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else return fail("bad \\u escape");
    }
    return true;
  }
  bool string(std::string& out) {
    if (p >= t.size() || t[p] != '"') return fail("expected string");
    p++;
    while (true) {
      if (p >= t.size()) return fail("unterminated string");
      unsigned char c = t[p];
      if (c == '"') { p++; return true; }
      if (c < 0x20) return fail("control character in string");
      if (c != '\\') { out += char(c); p++; continue; }
      p++;
      if (p >= t.size()) return fail("unterminated escape");
      char e = t[p++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return fail("lone low surrogate");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo = 0;
            if (p + 2 > t.size() || t[p] != '\\' || t[p + 1] != 'u') return fail("lone high surrogate");
            p += 2;
            if (!hex4(lo)) return false;
            if (lo < 0xDC00 || lo > 0xDFFF) return fail("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          put_utf8(out, cp);
          break;
        }
        default: return fail("bad escape");
      }
    }
  }
  bool number(Json& out) {
    size_t start = p;
    bool neg = false;
    if (t[p] == '-') { neg = true; p++; }
    if (p >= t.size() || t[p] < '0' || t[p] > '9') return fail("bad number");
    if (t[p] == '0' && p + 1 < t.size() && t[p + 1] >= '0' && t[p + 1] <= '9') return fail("leading zero");
    uint64_t v = 0;
    while (p < t.size() && t[p] >= '0' && t[p] <= '9') {
      uint64_t d = t[p] - '0';
      if (v > (UINT64_C(9223372036854775808) - d) / 10) return fail("integer out of range");
      v = v * 10 + d;
      p++;
    }
    if (p < t.size() && (t[p] == '.' || t[p] == 'e' || t[p] == 'E'))
      return fail("number with fraction or exponent (ZTB/1 numbers are integers)");
    if (!neg && v > UINT64_C(9223372036854775807)) return fail("integer out of range");
    (void)start;
    out.type = Json::Int;
    out.i = neg ? int64_t(0 - v) : int64_t(v);
    return true;
  }
  bool value(Json& out, int depth) {
    if (depth > 64) return fail("nesting too deep");
    ws();
    if (p >= t.size()) return fail("unexpected end");
    char c = t[p];
    if (c == '{') {
      p++;
      out.type = Json::Obj;
      ws();
      if (p < t.size() && t[p] == '}') { p++; return true; }
      while (true) {
        ws();
        std::string k;
        if (!string(k)) return false;
        for (const auto& kv : out.obj)
          if (kv.first == k) return fail("member named twice");
        ws();
        if (p >= t.size() || t[p] != ':') return fail("expected ':'");
        p++;
        Json v;
        if (!value(v, depth + 1)) return false;
        out.obj.emplace_back(std::move(k), std::move(v));
        ws();
        if (p < t.size() && t[p] == ',') { p++; continue; }
        if (p < t.size() && t[p] == '}') { p++; return true; }
        return fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      p++;
      out.type = Json::Arr;
      ws();
      if (p < t.size() && t[p] == ']') { p++; return true; }
      while (true) {
        Json v;
        if (!value(v, depth + 1)) return false;
        out.arr.push_back(std::move(v));
        ws();
        if (p < t.size() && t[p] == ',') { p++; continue; }
        if (p < t.size() && t[p] == ']') { p++; return true; }
        return fail("expected ',' or ']'");
      }
    }
    if (c == '"') { out.type = Json::Str; return string(out.s); }
    if (c == 't') { out.type = Json::Bool; out.b = true; return lit("true"); }
    if (c == 'f') { out.type = Json::Bool; out.b = false; return lit("false"); }
    if (c == 'n') { out.type = Json::Null; return lit("null"); }
    if (c == '-' || (c >= '0' && c <= '9')) return number(out);
    return fail("unexpected character");
  }
};

}  // namespace

bool parse_json(const std::string& text, Json& out, std::string& err) {
  if (!valid_utf8(text)) { err = "not valid UTF-8"; return false; }
  Parser ps(text);
  out = Json();
  if (!ps.value(out, 0)) { err = ps.err; return false; }
  ps.ws();
  if (ps.p != text.size()) { err = "trailing data after JSON value"; return false; }
  return true;
}

size_t code_points(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) n++;
  return n;
}

std::string truncate_code_points(const std::string& s, size_t n) {
  size_t count = 0, i = 0;
  for (; i < s.size(); i++) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (count == n) break;
      count++;
    }
  }
  return s.substr(0, i);
}

std::string JsonWriter::quote(const std::string& v) {
  std::string out = "\"";
  for (unsigned char c : v) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += char(c);
        }
    }
  }
  return out + "\"";
}

void JsonWriter::key(const std::string& k) {
  if (!first_) body_ += ",";
  first_ = false;
  body_ += quote(k) + ":";
}
JsonWriter& JsonWriter::str(const std::string& k, const std::string& v) { key(k); body_ += quote(v); return *this; }
JsonWriter& JsonWriter::num(const std::string& k, int64_t v) { key(k); body_ += std::to_string(v); return *this; }
JsonWriter& JsonWriter::boolean(const std::string& k, bool v) { key(k); body_ += v ? "true" : "false"; return *this; }
JsonWriter& JsonWriter::raw(const std::string& k, const std::string& j) { key(k); body_ += j; return *this; }

}  // namespace ztb

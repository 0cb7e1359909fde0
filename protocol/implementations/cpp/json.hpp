// Minimal strict JSON reader and writer for ZTB/1 (spec §Signatures and commands: one UTF-8 JSON object per frame,
// integers only, no duplicate members). No third-party library, as the implementation brief requires.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ztb {

struct Json {
  enum Type { Null, Bool, Int, Str, Arr, Obj } type = Null;
  bool b = false;
  int64_t i = 0;
  std::string s;
  std::vector<Json> arr;
  std::vector<std::pair<std::string, Json>> obj;

  const Json* get(const std::string& key) const {
    if (type != Obj) return nullptr;
    for (const auto& kv : obj)
      if (kv.first == key) return &kv.second;
    return nullptr;
  }
};

// Parses one JSON text. Returns false and sets err on any deviation: invalid UTF-8, trailing data, a number with a
// fraction or exponent (every ZTB/1 number is an integer), an integer outside int64, a member named twice, nesting
// deeper than 64.
bool parse_json(const std::string& text, Json& out, std::string& err);

// Number of Unicode code points in valid UTF-8 (the unit of the spec's string bounds, §Language).
size_t code_points(const std::string& utf8);
// The longest prefix of valid UTF-8 text holding at most n code points.
std::string truncate_code_points(const std::string& utf8, size_t n);

// Writer: builds an object in the member order the caller gives (spec: senders write members in document order).
class JsonWriter {
 public:
  JsonWriter& str(const std::string& key, const std::string& v);
  JsonWriter& num(const std::string& key, int64_t v);
  JsonWriter& boolean(const std::string& key, bool v);
  JsonWriter& raw(const std::string& key, const std::string& json);
  std::string done() const { return body_ + "}"; }
  static std::string quote(const std::string& v);

 private:
  void key(const std::string& k);
  std::string body_ = "{";
  bool first_ = true;
};

}  // namespace ztb

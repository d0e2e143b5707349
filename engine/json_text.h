// JsonQuote: the one JSON string escaper of Vigil's hand-written JSON (health, dead letters, audit
// records, HTTP error bodies). Protobuf messages go through MessageToJsonString instead.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace vigil {

// `text` as a JSON string literal, quotes included: '"' and '\\' escaped, control characters as
// \u00XX. Other bytes pass through unchanged (the callers' text is UTF-8 already).
inline std::string JsonQuote(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out + "\"";
}

}  // namespace vigil

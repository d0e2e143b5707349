#include "rulekit/front_coding.h"

namespace vigil::rulekit {

bool ReadFrontCoded(ByteReader& in, std::string* text) {
  uint64_t shared;
  std::string_view rest;
  if (!in.U64(&shared) || shared > text->size() || !in.Bytes(&rest)) return false;
  text->replace(shared, std::string::npos, rest);
  return true;
}

}  // namespace vigil::rulekit

#include "rulekit/front_coding.h"

#include <cstring>

namespace vigil::rulekit {

bool ReadFrontCoded(ByteReader& in, std::string* text) {
  uint64_t shared;
  std::string_view rest;
  if (!in.U64(&shared) || shared > text->size() || !in.Bytes(&rest)) return false;
  // Not replace(): an officer's ids mostly keep their length, and then this resize does nothing.
  text->resize(shared + rest.size());
  if (!rest.empty()) std::memcpy(text->data() + shared, rest.data(), rest.size());
  return true;
}

}  // namespace vigil::rulekit

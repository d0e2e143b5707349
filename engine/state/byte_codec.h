// ByteWriter / ByteReader: the compact binary form of the new core's per-officer state records.
//
// Varints for counts and small numbers, zig-zag varints for times (written as deltas where the
// caller can), length-prefixed bytes for ids. A reader never reads past its input: every Read*
// returns false on truncated or malformed bytes, so a damaged record is reported, not trusted.
// Not a public format: it may change between versions (the state directory records its format).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "rulekit/ref.h"

namespace vigil {

class ByteWriter {
 public:
  explicit ByteWriter(std::string& out) : out_(out) {}
  void U64(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void I64(int64_t v) { U64((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void Bool(bool v) { out_.push_back(v ? 1 : 0); }
  void Double(double v) {
    char bytes[8];
    std::memcpy(bytes, &v, 8);
    out_.append(bytes, 8);
  }
  void Bytes(std::string_view s) {
    U64(s.size());
    out_.append(s);
  }
  // A Ref; `base` is a time the reader will know (e.g. the previous ref's), to write a short delta.
  void WriteRef(const Ref& ref, Millis base = 0) {
    Bytes(ref.event_id.view());
    I64(ref.time - base);
    I64(ref.offset);
    I64(ref.partition);
    out_.push_back(static_cast<char>(ref.stream));
  }
  std::string& out() { return out_; }

 private:
  std::string& out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  bool U64(uint64_t* v) {
    // Most varints in a state are one byte (lengths, small deltas, indices): read without the loop.
    if (pos_ < in_.size() && static_cast<uint8_t>(in_[pos_]) < 0x80) {
      *v = static_cast<uint8_t>(in_[pos_++]);
      return true;
    }
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return false;
      const uint8_t byte = static_cast<uint8_t>(in_[pos_++]);
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80)) {
        *v = result;
        return true;
      }
    }
    return false;
  }
  bool I64(int64_t* v) {
    uint64_t u;
    if (!U64(&u)) return false;
    *v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
    return true;
  }
  bool I32(int32_t* v) {
    int64_t w;
    if (!I64(&w) || w < INT32_MIN || w > INT32_MAX) return false;
    *v = static_cast<int32_t>(w);
    return true;
  }
  bool Bool(bool* v) {
    if (pos_ >= in_.size()) return false;
    *v = in_[pos_++] != 0;
    return true;
  }
  bool Double(double* v) {
    if (in_.size() - pos_ < 8) return false;
    std::memcpy(v, in_.data() + pos_, 8);
    pos_ += 8;
    return true;
  }
  bool Bytes(std::string_view* s) {
    uint64_t n;
    if (!U64(&n) || n > in_.size() - pos_) return false;
    *s = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool ReadRef(Ref* ref, Millis base = 0) {
    std::string_view id;
    int64_t time, partition;
    if (!Bytes(&id) || !I64(&time) || !I64(&ref->offset) || !I64(&partition)) return false;
    if (pos_ >= in_.size()) return false;
    ref->stream = static_cast<uint8_t>(in_[pos_++]);
    ref->event_id.Assign(id);
    ref->time = base + time;
    ref->partition = static_cast<int32_t>(partition);
    return true;
  }
  bool done() const { return pos_ == in_.size(); }
  std::string_view rest() const { return in_.substr(pos_); }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace vigil

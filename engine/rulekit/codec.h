// Fast encoding of the rules' per-officer states, byte for byte the ByteWriter format
// (engine/state/byte_codec.h), so that ByteReader reads what these write.
//
// ByteWriter appends one byte at a time (a capacity check per byte); a state of hundreds of refs,
// re-encoded for each dirty officer at each snapshot, spent most of its checkpoint cost there.
// These grow the string once for a whole run of values (a bound on their size) and write through
// a pointer, then trim it to what was written.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "rulekit/ref.h"
#include "state/byte_codec.h"

namespace vigil::rulekit {

// The largest encoding of one U64 / I64 varint.
constexpr size_t kMaxVarint = 10;
// The largest encoding of a Ref besides its id's bytes: id length, time, offset, partition, stream.
constexpr size_t kMaxRefFixed = 4 * kMaxVarint + 1;

inline char* PutU64(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

inline char* PutI64(char* p, int64_t v) {
  return PutU64(p, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

inline char* PutBool(char* p, bool v) {
  *p++ = v ? 1 : 0;
  return p;
}

inline char* PutDouble(char* p, double v) {
  std::memcpy(p, &v, 8);
  return p + 8;
}

inline char* PutBytes(char* p, std::string_view s) {
  p = PutU64(p, s.size());
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

// As ByteWriter::WriteRef(ref, base).
inline char* PutRef(char* p, const Ref& ref, Millis base) {
  p = PutBytes(p, ref.event_id.view());
  p = PutI64(p, ref.time - base);
  p = PutI64(p, ref.offset);
  p = PutI64(p, ref.partition);
  *p++ = static_cast<char>(ref.stream);
  return p;
}

// The most bytes PutRef can write for `ref`.
inline size_t MaxRefBytes(const Ref& ref) { return kMaxRefFixed + ref.event_id.size(); }

// Room for `bound` more bytes at the end of a writer's string: Begin() points at the first, and
// Commit(p) keeps the bytes up to p (everything written) and drops the rest.
class Reserve {
 public:
  Reserve(ByteWriter& w, size_t bound) : out_(w.out()), start_(out_.size()) {
    out_.resize(start_ + bound);
  }
  char* Begin() { return &out_[start_]; }
  void Commit(char* end) { out_.resize(static_cast<size_t>(end - out_.data())); }

 private:
  std::string& out_;
  size_t start_;
};

// An append-only run of bytes written through a pointer: Room(bound) makes space for `bound` more
// bytes and points at the first, Commit(end) keeps those written up to `end`. A rule that appends a
// few bytes per event (complainant_lookup, at every look-up) spent more in std::string's
// out-of-line append and resize than in writing them. Move-only; grows by doubling.
class AppendBuffer {
 public:
  AppendBuffer() = default;
  // A moved-from buffer is empty.
  AppendBuffer(AppendBuffer&& o) noexcept { *this = std::move(o); }
  AppendBuffer& operator=(AppendBuffer&& o) noexcept {
    if (this == &o) return *this;
    data_ = std::move(o.data_);
    size_ = o.size_;
    capacity_ = o.capacity_;
    o.size_ = o.capacity_ = 0;
    return *this;
  }

  char* Room(size_t bound) {
    if (capacity_ - size_ < bound) Grow(size_ + bound);
    return data_.get() + size_;
  }
  void Commit(const char* end) { size_ = static_cast<size_t>(end - data_.get()); }
  void Reserve(size_t n) {
    if (n > capacity_) Grow(n);
  }
  void Append(std::string_view bytes) {
    char* p = Room(bytes.size());
    if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());
    Commit(p + bytes.size());
  }
  void Assign(std::string_view bytes) {
    size_ = 0;
    Append(bytes);
  }
  // Gives back the capacity beyond what is written (one copy).
  void ShrinkToFit() {
    if (capacity_ == size_) return;
    std::unique_ptr<char[]> fitted(size_ == 0 ? nullptr : new char[size_]);
    if (size_ != 0) std::memcpy(fitted.get(), data_.get(), size_);
    data_ = std::move(fitted);
    capacity_ = size_;
  }
  const char* data() const { return data_.get(); }
  // For a change in place of bytes written (a flag byte): the size stays as it is.
  char* data() { return data_.get(); }
  std::string_view view() const { return {data_.get(), size_}; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }

 private:
  void Grow(size_t at_least) {
    const size_t capacity = std::max(at_least, 2 * capacity_);
    std::unique_ptr<char[]> grown(new char[capacity]);
    if (size_ != 0) std::memcpy(grown.get(), data_.get(), size_);
    data_ = std::move(grown);
    capacity_ = capacity;
  }
  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// A contiguous run of T (a part of a vector), as a range.
template <typename T>
struct Span {
  Span(const T* data, size_t size) : first(data), last(data + size) {}
  const T* begin() const { return first; }
  const T* end() const { return last; }
  const T* first;
  const T* last;
};

// Writes `refs` (a range of Ref, or of values `get` maps to a const Ref&) as consecutive
// WriteRef(ref, previous ref's time) with the first based on `base`. Returns the last ref's time
// (or `base` if none). `extra` bytes more per element may be written by `after(p, element)`.
template <typename Range, typename Get, typename After>
Millis PutRefs(ByteWriter& w, const Range& range, Millis base, size_t extra, Get&& get,
               After&& after) {
  size_t bound = 0;
  for (const auto& e : range) bound += MaxRefBytes(get(e)) + extra;
  if (bound == 0) return base;
  Reserve room(w, bound);
  char* p = room.Begin();
  for (const auto& e : range) {
    const Ref& ref = get(e);
    p = PutRef(p, ref, base);
    base = ref.time;
    p = after(p, e);
  }
  room.Commit(p);
  return base;
}

// The common case: a range of Ref, nothing after each.
template <typename Range>
Millis PutRefs(ByteWriter& w, const Range& refs, Millis base) {
  return PutRefs(
      w, refs, base, 0, [](const Ref& r) -> const Ref& { return r; },
      [](char* p, const Ref&) { return p; });
}

}  // namespace vigil::rulekit

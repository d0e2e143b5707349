// Ref: the unit of evidence in the new core, what a rule keeps of an event it may cite in an alert.
//
// An event id is held inline (no allocation) up to IdString::kInline bytes, which covers every id
// the synthetic force and the scenarios use; longer ids fall back to the heap. A Ref is a value
// type, cheap to copy and to keep by the thousand in a rule's per-officer state.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "time/event_time.h"

namespace vigil {

class IdString {
 public:
  static constexpr size_t kInline = 30;
  IdString() { inline_[0] = 0; }
  IdString(std::string_view s) { Assign(s); }  // NOLINT: implicit by design
  // Copies and moves of an inline id copy the whole inline array (a fixed size the compiler
  // inlines, not a call to memcpy): refs are copied and moved on every rule's hot path.
  IdString(const IdString& o) { CopyFrom(o); }
  IdString& operator=(const IdString& o) {
    if (this != &o) CopyFrom(o);
    return *this;
  }
  IdString(IdString&& o) noexcept { *this = std::move(o); }
  IdString& operator=(IdString&& o) noexcept {
    if (this == &o) return *this;
    heap_ = std::move(o.heap_);
    size_ = o.size_;
    std::memcpy(inline_, o.inline_, sizeof inline_);
    o.size_ = 0;
    return *this;
  }
  void Assign(std::string_view s) {
    size_ = static_cast<uint32_t>(s.size());
    if (s.size() <= kInline) {
      heap_.reset();
      std::memcpy(inline_, s.data(), s.size());
    } else {
      heap_.reset(new char[s.size()]);
      std::memcpy(heap_.get(), s.data(), s.size());
    }
  }
  std::string_view view() const { return {heap_ ? heap_.get() : inline_, size_}; }
  operator std::string_view() const { return view(); }  // NOLINT: implicit by design
  std::string str() const { return std::string(view()); }
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  friend bool operator==(const IdString& a, const IdString& b) { return a.view() == b.view(); }
  friend bool operator!=(const IdString& a, const IdString& b) { return a.view() != b.view(); }
  friend bool operator<(const IdString& a, const IdString& b) { return a.view() < b.view(); }

 private:
  void CopyFrom(const IdString& o) {
    if (o.heap_) return Assign(o.view());
    heap_.reset();
    size_ = o.size_;
    std::memcpy(inline_, o.inline_, sizeof inline_);
  }

  std::unique_ptr<char[]> heap_;
  uint32_t size_ = 0;
  char inline_[kInline];
};

struct Ref {
  IdString event_id;
  Millis time = 0;
  int64_t offset = -1;     // -1 when not read from Kafka
  int32_t partition = -1;  // -1 when not read from Kafka
  uint8_t stream = 0;      // static_cast<uint8_t>(Stream) (event.h): the alert names its topic
};

// Orders refs by (time, event_id): the contract's order of events.
inline bool RefBefore(const Ref& a, const Ref& b) {
  return a.time != b.time ? a.time < b.time : a.event_id.view() < b.event_id.view();
}

}  // namespace vigil

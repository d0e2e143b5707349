// SharedBatch: a second StateStore (the shadow rules' of `vigil run --shadow-rules`) kept in the
// same RocksDB database as the first, under a key prefix of its own, and written in the SAME
// atomic batch as the first store's checkpoint (engine/live/CHECKPOINTS.md, "Shadow rules").
//
// A second database would need two commits, and a crash between them would leave the shadow
// rules' state, their outbox and the input offsets out of step. Instead:
//   - the lead store's backend is Lead(): its Write() adds whatever the follower staged;
//   - the follower store's backend is Follower(): keys are prefixed, reads go to the shared
//     backend (so they see a batch still being written), and Write() only stages the writes.
// The follower's Checkpoint() must come right before the lead's, with no read of the follower in
// between (its staged writes are not visible to its reads until the lead writes them).
#pragma once

#include <memory>
#include <string>

#include "state/kv_backend.h"

namespace vigil {

class SharedBatch {
 public:
  // `shared` is the backend both stores live in (the lead's backend owns it).
  SharedBatch(std::unique_ptr<KvBackend> shared, std::string follower_prefix);

  // The lead store's backend. Call once.
  std::unique_ptr<KvBackend> Lead();
  // The follower store's backend, valid while the lead's lives. Call once.
  std::unique_ptr<KvBackend> Follower();
  // Writes staged by the follower when the lead had nothing to write (its Checkpoint() then
  // skips the backend): alone they are still one atomic batch.
  void WriteStaged(bool sync);

 private:
  class LeadBackend;
  class FollowerBackend;
  // The lead's writes followed by the staged ones, as one batch; clears the staged ones.
  void WriteJoined(KvBatch&& lead, bool sync);

  std::unique_ptr<KvBackend> owned_;  // handed to the lead by Lead()
  KvBackend* shared_;
  std::string prefix_;
  KvBatch staged_;  // the follower's writes, their keys prefixed
};

}  // namespace vigil

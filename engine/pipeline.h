// Pipeline: a Processor with its rules and state store, as `replay`, `run` and `demo` use it.
#pragma once

#include <memory>
#include <string>

#include "processor.h"
#include "rules.pb.h"
#include "runtime/event_core.h"
#include "state_store.h"

namespace vigil {

struct Pipeline {
  std::unique_ptr<StateStore> store;
  std::unique_ptr<EventCore> core;
  // The old core inside `core`, or null on the new one: for bench/core_throughput until it moves
  // to EventCore (issue 11).
  Processor* processor = nullptr;
  std::string rules_version;  // RulesVersion of its rules; set on every alert it emits
};

enum class CoreChoice { kFromEnvironment, kOld, kNext };

struct PipelineOptions {
  Topics topics;                   // the topics evidence names
  size_t memory_budget_bytes = 0;  // the new core's state in memory (0: unbounded)
  CoreChoice core = CoreChoice::kFromEnvironment;  // the differential tests choose
};

// How one memory budget (`--memory-budget-mb`) is shared: RocksDB's block cache and write buffers
// get a quarter of it (at least 8 MiB, at most 256 MiB), the core's records, hold and duplicate
// ids the rest.
struct MemoryShares {
  size_t rocks = 0;
  size_t core = 0;
};
MemoryShares SplitMemoryBudget(size_t total_bytes);

// Whether pipelines run on the new core (engine/runtime/core.h): the default, unless
// VIGIL_CORE=old in the environment asks for the old Processor (kept until it is deleted, for
// side-by-side figures and the differential test).
bool UseNextCore();

// Builds the enabled rules of `config` over `backend`; every alert they emit carries
// RulesVersion(config).
Pipeline MakePipeline(const v1::RulesConfig& config, std::unique_ptr<KvBackend> backend,
                      const PipelineOptions& options = {});

// A directory removed with everything in it when this object goes away.
class TempDir {
 public:
  explicit TempDir(const std::string& name_prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace vigil

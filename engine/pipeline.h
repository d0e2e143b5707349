// Pipeline: a Core with its rules and state store, as `replay`, `run`, `diff` and `demo` use it.
//
// The engine does not know the rules: they are a library of their own (operators/, vigil_rules),
// which installs its factory (SetRuleFactory) in every binary that links it; MakePipeline builds
// each pipeline's rules with it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "rules.pb.h"
#include "runtime/event_core.h"
#include "runtime/rule.h"
#include "state/state_store.h"

namespace vigil {

struct Pipeline {
  std::unique_ptr<StateStore> store;
  std::unique_ptr<EventCore> core;
  std::string rules_version;  // RulesVersion of its rules; set on every alert it emits
};

struct PipelineOptions {
  Topics topics;                   // the topics evidence names
  size_t memory_budget_bytes = 0;  // the core's state in memory (0: unbounded)
};

// How one memory budget (`--memory-budget-mb`) is shared: RocksDB's block cache and write buffers
// get a quarter of it (at least 8 MiB, at most 256 MiB), the core's records, hold and duplicate
// ids the rest.
struct MemoryShares {
  size_t rocks = 0;
  size_t core = 0;
};
MemoryShares SplitMemoryBudget(size_t total_bytes);

// The enabled rules of a complete configuration, in contract order.
using RuleFactory =
    std::function<std::vector<std::unique_ptr<Rule>>(const v1::RulesConfig& config)>;
// Sets the rules of every pipeline made after it (operators/install_rules.cc calls it).
void SetRuleFactory(RuleFactory factory);

// Builds the enabled rules of `config` over `backend`; every alert they emit carries
// RulesVersion(config). Throws FatalError if no rule factory is set (the binary does not link
// vigil_rules).
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

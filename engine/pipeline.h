// Pipeline: a Processor with its rules and state store, as `replay`, `run` and `demo` use it.
#pragma once

#include <memory>
#include <string>

#include "processor.h"
#include "rules.pb.h"
#include "state_store.h"

namespace vigil {

struct Pipeline {
  std::unique_ptr<StateStore> store;
  std::unique_ptr<Processor> processor;
  std::string rules_version;  // RulesVersion of its rules; set on every alert it emits
};

// Builds the enabled rules of `config` over `backend`; every alert they emit carries
// RulesVersion(config).
Pipeline MakePipeline(const v1::RulesConfig& config, std::unique_ptr<KvBackend> backend);

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

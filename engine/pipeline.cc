#include "pipeline.h"

#include <algorithm>
#include <filesystem>
#include <utility>
#include <vector>

namespace vigil {
namespace {

RuleFactory& InstalledRules() {
  static RuleFactory factory;  // a function-local static: set safely from a static initializer
  return factory;
}

}  // namespace

MemoryShares SplitMemoryBudget(size_t total_bytes) {
  MemoryShares shares;
  shares.rocks = std::clamp<size_t>(total_bytes / 4, size_t{8} << 20, size_t{256} << 20);
  shares.rocks = std::min(shares.rocks, total_bytes / 2);
  shares.core = total_bytes - shares.rocks;
  return shares;
}

void SetRuleFactory(RuleFactory factory) { InstalledRules() = std::move(factory); }

Pipeline MakePipeline(const v1::RulesConfig& config, std::unique_ptr<KvBackend> backend,
                      const PipelineOptions& options) {
  const RuleFactory& rules = InstalledRules();
  if (!rules) throw FatalError("no rules to run: this binary is not linked with vigil_rules");
  Pipeline pipeline;
  pipeline.rules_version = RulesVersion(config);
  pipeline.store = std::make_unique<StateStore>(std::move(backend));
  CoreOptions core_options;
  core_options.topics = options.topics;
  core_options.memory_budget_bytes = options.memory_budget_bytes;
  core_options.rules_version = pipeline.rules_version;
  pipeline.core = std::make_unique<EventCore>(
      std::make_unique<Core>(*pipeline.store, config, rules(config), std::move(core_options)));
  return pipeline;
}

TempDir::TempDir(const std::string& name_prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / (name_prefix + "XXXXXX")).string();
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (!mkdtemp(buffer.data())) throw FatalError("cannot create a temporary directory in " + pattern);
  path_ = buffer.data();
}

TempDir::~TempDir() {
  std::error_code ignored;  // best effort: a leftover temp dir is not worth failing the job for
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace vigil

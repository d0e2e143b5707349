#include "pipeline.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string_view>
#include <vector>

#include "next/registry.h"
#include "registry.h"

namespace vigil {
namespace {

// Alerts are built by the operators (BuildAlert), each of which knows only its own rule; the
// version belongs to the whole rule set. Stamping it here, where every pipeline's rules are put
// together (replay, run, demo, a shadow set), makes it the one place that does, for every alert.
class StampingContext final : public OperatorContext {
 public:
  StampingContext(OperatorContext& inner, const std::string& version)
      : inner_(inner), version_(version) {}
  KeySpace& state() override { return inner_.state(); }
  void SetTimer(Millis at, std::string_view key, std::string_view payload) override {
    inner_.SetTimer(at, key, payload);
  }
  void ScheduleCleanup(Millis at, std::string_view key) override { inner_.ScheduleCleanup(at, key); }
  void Emit(v1::Alert alert) override {
    alert.set_rules_version(version_);
    inner_.Emit(std::move(alert));
  }
  const EffectiveRoster& roster() override { return inner_.roster(); }
  Millis watermark() const override { return inner_.watermark(); }
  const TimeSettings& time() const override { return inner_.time(); }

 private:
  OperatorContext& inner_;
  const std::string& version_;
};

class VersionedOperator final : public Operator {
 public:
  VersionedOperator(std::unique_ptr<Operator> rule, std::string version)
      : rule_(std::move(rule)), version_(std::move(version)) {}
  const RuleInfo& info() const override { return rule_->info(); }
  void OnEvent(const state::StoredEvent& event, OperatorContext& ctx) const override {
    StampingContext stamping(ctx, version_);
    rule_->OnEvent(event, stamping);
  }
  void OnTimer(Millis at, std::string_view key, std::string_view payload,
               OperatorContext& ctx) const override {
    StampingContext stamping(ctx, version_);
    rule_->OnTimer(at, key, payload, stamping);
  }

 private:
  std::unique_ptr<Operator> rule_;
  std::string version_;
};

}  // namespace

MemoryShares SplitMemoryBudget(size_t total_bytes) {
  MemoryShares shares;
  shares.rocks = std::clamp<size_t>(total_bytes / 4, size_t{8} << 20, size_t{256} << 20);
  shares.rocks = std::min(shares.rocks, total_bytes / 2);
  shares.core = total_bytes - shares.rocks;
  return shares;
}

bool UseNextCore() {
  const char* core = std::getenv("VIGIL_CORE");
  return !(core && std::string_view(core) == "old");
}

Pipeline MakePipeline(const v1::RulesConfig& config, std::unique_ptr<KvBackend> backend,
                      const PipelineOptions& options) {
  Pipeline pipeline;
  pipeline.rules_version = RulesVersion(config);
  pipeline.store = std::make_unique<StateStore>(std::move(backend));
  const bool next = options.core == CoreChoice::kNext ||
                    (options.core == CoreChoice::kFromEnvironment && UseNextCore());
  if (next) {
    CoreOptions core_options;
    core_options.topics = options.topics;
    core_options.memory_budget_bytes = options.memory_budget_bytes;
    core_options.rules_version = pipeline.rules_version;
    pipeline.core = WrapCore(
        std::make_unique<Core>(*pipeline.store, config, BuildRules(config), std::move(core_options)),
        options.topics);
    return pipeline;
  }
  std::vector<std::unique_ptr<Operator>> operators;
  for (auto& rule : BuildOperators(config)) {
    operators.push_back(std::make_unique<VersionedOperator>(std::move(rule), pipeline.rules_version));
  }
  auto processor = std::make_unique<Processor>(*pipeline.store, config, std::move(operators));
  pipeline.processor = processor.get();
  pipeline.core = WrapProcessor(std::move(processor), options.topics);
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

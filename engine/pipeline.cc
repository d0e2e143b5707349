#include "pipeline.h"

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "registry.h"

namespace vigil {

Pipeline MakePipeline(const v1::RulesConfig& config, std::unique_ptr<KvBackend> backend) {
  Pipeline pipeline;
  pipeline.store = std::make_unique<StateStore>(std::move(backend));
  pipeline.processor =
      std::make_unique<Processor>(*pipeline.store, config, BuildOperators(config));
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

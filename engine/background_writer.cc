#include "background_writer.h"

namespace vigil {

std::unique_ptr<KvBackend> InBackground(std::unique_ptr<KvBackend> inner, BackgroundWriter*& writer) {
  auto background = std::make_unique<BackgroundWriter>(std::move(inner));
  writer = background.get();
  return background;
}

}  // namespace vigil

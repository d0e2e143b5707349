// The dashboard's page (engine/http/web/), compiled into the binary by cmake/embed_files.cmake.
#pragma once

#include <string_view>

namespace vigil::http {

struct WebAsset {
  std::string_view name;  // file name: "index.html", "app.js", ...
  std::string_view content;
};

// The embedded file of that name, or nullptr.
const WebAsset* FindWebAsset(std::string_view name);

}  // namespace vigil::http

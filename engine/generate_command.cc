#include <iostream>

#include "commands.h"

namespace vigil {

int GenerateCommand(int, char**) {
  std::cerr << "vigil generate: not written yet\n";
  return 1;
}

}  // namespace vigil

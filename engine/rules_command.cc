#include <iostream>

#include "commands.h"

namespace vigil {

int RulesCommand(int, char**) {
  std::cerr << "vigil rules: not written yet\n";
  return 1;
}

}  // namespace vigil

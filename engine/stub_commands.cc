#include <iostream>
#include "commands.h"
namespace vigil {
int DemoCommand(int, char**) { std::cerr << "todo\n"; return 1; }
}

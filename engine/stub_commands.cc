#include <iostream>
#include "commands.h"
namespace vigil {
int RunCommand(int, char**) { std::cerr << "todo\n"; return 1; }
int ProduceCommand(int, char**) { std::cerr << "todo\n"; return 1; }
int ConsumeCommand(int, char**) { std::cerr << "todo\n"; return 1; }
int DevBrokerCommand(int, char**) { std::cerr << "todo\n"; return 1; }
int DemoCommand(int, char**) { std::cerr << "todo\n"; return 1; }
}

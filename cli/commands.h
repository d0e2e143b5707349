// Entry points of the vigil sub-commands: each parses its own options (argv[2..]) and returns the
// process exit status (0 ok, 1 failed while running, 2 bad usage or configuration).
#pragma once

namespace vigil {

int ReplayCommand(int argc, char** argv);
int RunCommand(int argc, char** argv);
int ProduceCommand(int argc, char** argv);
int ConsumeCommand(int argc, char** argv);
int DevBrokerCommand(int argc, char** argv);
int DemoCommand(int argc, char** argv);
int RulesCommand(int argc, char** argv);
int GenerateCommand(int argc, char** argv);
int DashboardCommand(int argc, char** argv);  // cli/dashboard_command.cc
int DiffCommand(int argc, char** argv);       // cli/diff_command.cc

}  // namespace vigil

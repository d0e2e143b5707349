// A small command-line parser: --name VALUE and --flag options, with usage text that is the
// single source of truth for --help. Bad usage is reported as a Status (exit code 2).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "status.h"

namespace vigil {

struct OptionSpec {
  std::string name;         // without the leading "--"
  std::string value_name;   // empty for a flag
  std::string help;
  std::string default_value;
};

class Args {
 public:
  // Parses argv[first..]; --help sets help().
  static Result<Args> Parse(const std::vector<OptionSpec>& specs, int argc, char** argv, int first);

  bool help() const { return help_; }
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  std::string Get(const std::string& name) const;  // value or the spec's default
  Result<long long> GetInt(const std::string& name, long long min, long long max) const;
  Result<double> GetDouble(const std::string& name, double min, double max) const;

 private:
  bool help_ = false;
  std::map<std::string, std::string> values_;
  std::map<std::string, std::string> defaults_;
};

// Parses a sub-command's options (argv[2..]) into `out`. Prints the usage for --help (returns 0),
// or the problem and the usage for bad usage or a missing required option (returns 2); returns -1
// when the command should go on.
int ParseCommandLine(const char* command, const std::vector<OptionSpec>& specs,
                     const std::string& usage, int argc, char** argv,
                     const std::vector<std::string>& required, Args& out);

std::string Usage(const std::string& synopsis, const std::string& description,
                  const std::vector<OptionSpec>& specs);

}  // namespace vigil

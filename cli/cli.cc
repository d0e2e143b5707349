#include "cli.h"

#include <cstdlib>
#include <iostream>
#include <sstream>

namespace vigil {
namespace {

std::string FormatNumber(double value) {
  std::ostringstream out;
  out << value;  // shortest natural form: 0, 0.5, 1000
  return out.str();
}

}  // namespace

Result<Args> Args::Parse(const std::vector<OptionSpec>& specs, int argc, char** argv, int first) {
  Args args;
  for (const auto& spec : specs) args.defaults_[spec.name] = spec.default_value;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      args.help_ = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) return Status::Error("unexpected argument '" + arg + "'");
    std::string name = arg.substr(2);
    std::string inline_value;
    bool has_inline = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_inline = true;
    }
    const OptionSpec* spec = nullptr;
    for (const auto& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (!spec) return Status::Error("unknown option --" + name);
    if (spec->value_name.empty()) {
      if (has_inline) return Status::Error("option --" + name + " takes no value");
      args.values_[name] = "true";
    } else if (has_inline) {
      args.values_[name] = inline_value;
    } else {
      if (i + 1 >= argc) return Status::Error("option --" + name + " needs a value (" + spec->value_name + ")");
      args.values_[name] = argv[++i];
    }
  }
  return args;
}

std::string Args::Get(const std::string& name) const {
  auto it = values_.find(name);
  if (it != values_.end()) return it->second;
  auto d = defaults_.find(name);
  return d == defaults_.end() ? std::string() : d->second;
}

Result<double> Args::GetDouble(const std::string& name, double min, double max) const {
  const std::string text = Get(name);
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(value >= min && value <= max)) {
    return Status::Error("--" + name + " must be a number from " + FormatNumber(min) + " to " +
                         FormatNumber(max) + ", got '" + text + "'");
  }
  return value;
}

Result<long long> Args::GetInt(const std::string& name, long long min, long long max) const {
  std::string text = Get(name);
  try {
    size_t used = 0;
    long long value = std::stoll(text, &used);
    if (used != text.size()) throw std::invalid_argument(text);
    if (value < min || value > max) {
      return Status::Error("--" + name + " must be between " + std::to_string(min) + " and " +
                           std::to_string(max) + ", got " + text);
    }
    return value;
  } catch (const std::logic_error&) {
    return Status::Error("--" + name + " needs a whole number, got '" + text + "'");
  }
}

int ParseCommandLine(const char* command, const std::vector<OptionSpec>& specs,
                     const std::string& usage, int argc, char** argv,
                     const std::vector<std::string>& required, Args& out) {
  Result<Args> args = Args::Parse(specs, argc, argv, 2);
  if (!args.ok()) {
    std::cerr << "vigil " << command << ": " << args.status().message() << "\n\n" << usage;
    return 2;
  }
  if (args->help()) {
    std::cout << usage;
    return 0;
  }
  for (const auto& name : required) {
    if (!args->Has(name)) {
      std::cerr << "vigil " << command << ": --" << name << " is required\n\n" << usage;
      return 2;
    }
  }
  out = *args;
  return -1;
}

std::string Usage(const std::string& synopsis, const std::string& description,
                  const std::vector<OptionSpec>& specs) {
  std::ostringstream out;
  out << "usage: " << synopsis << "\n\n" << description << "\n";
  if (!specs.empty()) out << "\noptions:\n";
  for (const auto& s : specs) {
    std::string left = "  --" + s.name + (s.value_name.empty() ? "" : " " + s.value_name);
    out << left;
    if (left.size() < 28) out << std::string(28 - left.size(), ' ');
    else out << "\n" << std::string(28, ' ');
    out << s.help;
    if (!s.default_value.empty()) out << " (default: " << s.default_value << ")";
    out << "\n";
  }
  out << "  --help                    show this text\n";
  return out.str();
}

}  // namespace vigil

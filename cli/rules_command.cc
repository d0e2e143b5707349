// `vigil rules`: the rules file for analysts. --defaults prints every field at its default, each
// rule with its one-paragraph description (in the rule's ignored `description` field, so the
// output loads back unchanged with --rules); --check validates a rules file.
#include <algorithm>
#include <iostream>
#include <sstream>

#include <google/protobuf/descriptor.h>

#include "cli.h"
#include "commands.h"
#include "registry.h"
#include "rules_config.h"

namespace vigil {
namespace {

// The default configuration with each rule's description filled in. The rule objects of
// RulesConfig are named after the rule ids (offDutyAccess <-> off_duty_access).
v1::RulesConfig DescribedDefaults() {
  v1::RulesConfig config = DefaultRulesConfig();
  const auto* descriptor = config.GetDescriptor();
  const auto* reflection = config.GetReflection();
  for (const RuleDescriptor* entry : RuleCatalogue()) {
    const std::string rule_id = entry->rule_id;
    const auto* field = descriptor->FindFieldByName(rule_id);
    if (!field || field->type() != google::protobuf::FieldDescriptor::TYPE_MESSAGE) {
      throw FatalError("rule " + rule_id + " has no object in the rules file");
    }
    auto* rule = reflection->MutableMessage(&config, field);
    const auto* description = rule->GetDescriptor()->FindFieldByName("description");
    if (!description) throw FatalError("rule " + rule_id + " has no description field");
    rule->GetReflection()->SetString(rule, description, entry->make(config)->info().description);
  }
  return config;
}

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

std::string JsonScalar(const google::protobuf::Message& message,
                       const google::protobuf::FieldDescriptor* field, int index) {
  using FD = google::protobuf::FieldDescriptor;
  const auto* r = message.GetReflection();
  const bool repeated = field->is_repeated();
  std::ostringstream out;
  switch (field->cpp_type()) {
    case FD::CPPTYPE_BOOL:
      out << ((repeated ? r->GetRepeatedBool(message, field, index) : r->GetBool(message, field)) ? "true" : "false");
      break;
    case FD::CPPTYPE_INT32:
      out << (repeated ? r->GetRepeatedInt32(message, field, index) : r->GetInt32(message, field));
      break;
    case FD::CPPTYPE_INT64:  // a number, not proto3 JSON's string form: both load
      out << (repeated ? r->GetRepeatedInt64(message, field, index) : r->GetInt64(message, field));
      break;
    case FD::CPPTYPE_DOUBLE:
      out << (repeated ? r->GetRepeatedDouble(message, field, index) : r->GetDouble(message, field));
      break;
    case FD::CPPTYPE_ENUM:
      out << JsonString((repeated ? r->GetRepeatedEnum(message, field, index) : r->GetEnum(message, field))->name());
      break;
    case FD::CPPTYPE_STRING:
      out << JsonString(repeated ? r->GetRepeatedString(message, field, index) : r->GetString(message, field));
      break;
    default:
      throw FatalError("rules file field " + field->name() + " has a type `vigil rules` cannot print");
  }
  return out.str();
}

// One rule (or "time") object, two-space indented, description first, then the fields in
// declaration order; fields without a value (offDutyAccess.severity) are left out.
void PrintObject(std::ostream& out, const google::protobuf::Message& message) {
  const auto* descriptor = message.GetDescriptor();
  const auto* r = message.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  if (const auto* d = descriptor->FindFieldByName("description")) fields.push_back(d);
  for (int i = 0; i < descriptor->field_count(); ++i) {
    if (descriptor->field(i)->name() != "description") fields.push_back(descriptor->field(i));
  }
  std::vector<std::string> lines;
  for (const auto* field : fields) {
    std::string value;
    if (field->is_repeated()) {
      for (int i = 0; i < r->FieldSize(message, field); ++i) {
        value += (i ? ", " : "") + JsonScalar(message, field, i);
      }
      value = "[" + value + "]";
    } else if (r->HasField(message, field)) {
      value = JsonScalar(message, field, 0);
    } else {
      continue;
    }
    lines.push_back("    " + JsonString(field->json_name()) + ": " + value);
  }
  out << "{";
  for (size_t i = 0; i < lines.size(); ++i) out << (i ? ",\n" : "\n") << lines[i];
  out << (lines.empty() ? "}" : "\n  }");
}

void PrintRulesFile(std::ostream& out, const v1::RulesConfig& config) {
  const auto* descriptor = config.GetDescriptor();
  out << "{\n";
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const auto* field = descriptor->field(i);
    out << "  " << JsonString(field->json_name()) << ": ";
    PrintObject(out, config.GetReflection()->GetMessage(config, field));
    out << (i + 1 < descriptor->field_count() ? ",\n" : "\n");
  }
  out << "}\n";
}

}  // namespace

int RulesCommand(int argc, char** argv) {
  const std::vector<OptionSpec> specs = {
      {"defaults", "", "print the default rules file, every field, each rule with its description", ""},
      {"check", "RULES.json", "validate a rules file: exit 0 if it loads, 2 naming the bad field", ""},
  };
  const std::string usage = Usage(
      "vigil rules --defaults | --check RULES.json",
      "--defaults prints the complete rules file with every default, as proto3 JSON: a starting\n"
      "point to edit and pass to `vigil replay|run --rules`. Each rule object carries a\n"
      "\"description\" with the rule's paragraph; that field is ignored when the file is loaded,\n"
      "so the output loads back unchanged (delete or keep it as you like). Any field left out of\n"
      "a rules file keeps its default; an unknown field or a value out of range is an error.\n"
      "--check loads a rules file as replay and run would and reports the first problem; for a\n"
      "valid file it prints the rules version, the short hash every alert made with these rules\n"
      "carries as rulesVersion (defaults spelt out or left out, descriptions and the order of\n"
      "categories do not change it; any other change does). --defaults names the defaults'\n"
      "version on stderr, so stdout stays a loadable rules file.",
      specs);
  Args args;
  if (int code = ParseCommandLine("rules", specs, usage, argc, argv, {}, args); code >= 0) return code;
  if (args.Has("defaults") == args.Has("check")) {
    std::cerr << "vigil rules: give exactly one of --defaults and --check\n\n" << usage;
    return 2;
  }
  if (args.Has("check")) {
    const std::string path = args.Get("check");
    if (path.empty()) {
      std::cerr << "vigil rules: --check needs a file\n";
      return 2;
    }
    Result<v1::RulesConfig> config = LoadRulesConfig(path);
    if (!config.ok()) {
      std::cerr << "vigil rules: " << config.status().message() << "\n";
      return 2;
    }
    const auto& catalogue = RuleCatalogue();
    const auto enabled = std::count_if(catalogue.begin(), catalogue.end(),
                                       [&](const RuleDescriptor* rule) { return rule->enabled(*config); });
    std::cout << path << ": valid (" << enabled << " of " << catalogue.size()
              << " rules enabled), rules version " << RulesVersion(*config) << "\n";
    return 0;
  }
  PrintRulesFile(std::cout, DescribedDefaults());
  std::cerr << "vigil rules: these defaults are rules version " << RulesVersion(DefaultRulesConfig())
            << " (alerts' rulesVersion)\n";
  return 0;
}

}  // namespace vigil

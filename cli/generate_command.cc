// `vigil generate`: writes a synthetic force (synthetic_force.h) as an NDJSON event file, and
// optionally the plan of the patterns planted in it and the labels of its cases.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli.h"
#include "commands.h"
#include "event.h"
#include "synthetic_force.h"

namespace vigil {

int GenerateCommand(int argc, char** argv) {
  const SyntheticForceOptions defaults;
  const std::vector<OptionSpec> specs = {
      {"output", "EVENTS.ndjson", "where to write the events, one envelope a line (- for stdout)", ""},
      {"officers", "N", "officers in the force (staff ids MP100001, MP100002, ...)",
       std::to_string(defaults.officers)},
      {"days", "D",
       "shift days; 21 or more lets every rule fire, 31 or more adds the 30-day boundary patterns "
       "of repeated_subject_lookup",
       std::to_string(defaults.days)},
      {"start", "TIME", "first shift day, RFC 3339 (rosters are published from 3 days before)",
       FormatTime(defaults.start)},
      {"seed", "S", "random seed: the same options give the same events", std::to_string(defaults.seed)},
      {"access-per-officer-day", "X",
       "volume: mean access events per officer per day, all on worked shifts in several sessions "
       "a shift (about 1.7 X per worked shift); 45 is a real force's: about 2 million a day for "
       "45,000 officers, beside about 0.85 roster events per officer per day",
       "45"},
      {"access-per-shift", "X",
       "the small volume instead (the tests' and the demo's): mean access events per worked shift, "
       "about a third of shifts with one session at 1.5, at most 24 lookups a session (about 0.59 x "
       "officers x X access events a day)",
       ""},
      {"events-per-day", "N",
       "volume as a rate: sets --access-per-officer-day to give about N events a day in all", ""},
      {"plan", "PLAN.json",
       "also write the planted patterns and benign cases (rule, officer, subject, day of window end)", ""},
      {"labels", "LABELS.ndjson",
       "also write one label per (officer, rule) case: planted patterns true_positive, benign cases "
       "false_positive (what `vigil diff --labels` reads)",
       ""},
      {"benign-rate", "X",
       "benign behaviour the rules catch (rest-day log-ins, lookups for reasons the case reference "
       "does not show, sickness with a known cause, ...): X times about 22 cases (fewer if the force "
       "is too small or too short for some); 0 for none",
       "1.0"},
      {"no-plant", "", "background behaviour only, no planted patterns and no benign cases", ""},
      {"dry-run", "", "generate and count the events without writing them (measures the generator)", ""},
      {"quiet", "", "no progress lines", ""},
  };
  const std::string usage = Usage(
      "vigil generate --output EVENTS.ndjson [--officers N] [--days D] [--seed S] [--plan PLAN.json]\n"
      "               [--labels LABELS.ndjson] [--benign-rate X]\n"
      "               [--access-per-officer-day X | --access-per-shift X | --events-per-day N]",
      "Writes a deterministic synthetic police force: rosters (early/late/night shifts, rest days,\n"
      "leave, sickness, overtime, later changes and cancellations), system use during shifts\n"
      "(LOGIN, SEARCH, RECORD_VIEW, LOGOUT at sites around the UK) and rare complaints, in event-time\n"
      "order (a few access events up to 90 s late). Patterns for every rule are planted at known\n"
      "places, with near misses just outside each rule's boundary, and benign behaviour that the\n"
      "rules catch although nobody did wrong (--benign-rate); --plan lists them, so that\n"
      "`vigil replay` of the file can be checked against it, and --labels says which alerts are\n"
      "true and which false positives. The defaults (45,000 officers, 21 days, the realistic volume)\n"
      "give about 44 million events (about 2 million a day); --access-per-shift 1.5 gives the\n"
      "small force of the tests (about 1.6 million events at the defaults). Events are generated a\n"
      "day at a time, so memory stays at a few days of events whatever --days is.",
      specs);
  Args args;
  if (int code = ParseCommandLine("generate", specs, usage, argc, argv, {}, args); code >= 0) return code;
  const bool dry_run = args.Has("dry-run");
  if (!args.Has("output") && !dry_run) {
    std::cerr << "vigil generate: --output is required\n\n" << usage;
    return 2;
  }
  SyntheticForceOptions options;
  Result<long long> officers = args.GetInt("officers", 1, 10000000);
  Result<long long> days = args.GetInt("days", 1, 3650);
  Result<long long> seed = args.GetInt("seed", 0, std::numeric_limits<long long>::max());
  for (const auto* r : {&officers, &days, &seed}) {
    if (!r->ok()) {
      std::cerr << "vigil generate: " << r->status().message() << "\n";
      return 2;
    }
  }
  options.officers = *officers;
  options.days = static_cast<int>(*days);
  options.seed = static_cast<uint64_t>(*seed);
  if (args.Has("start")) {
    Result<Millis> start = ParseTime(args.Get("start"));
    if (!start.ok()) {
      std::cerr << "vigil generate: --start: " << start.status().message() << "\n";
      return 2;
    }
    options.start = DayStart(*start);
  }
  const int volumes = args.Has("access-per-officer-day") + args.Has("access-per-shift") + args.Has("events-per-day");
  if (volumes > 1) {
    std::cerr << "vigil generate: give one of --access-per-officer-day, --access-per-shift and "
                 "--events-per-day\n";
    return 2;
  }
  if (args.Has("access-per-shift")) {
    Result<double> x = args.GetDouble("access-per-shift", 0.001, 1000);
    if (!x.ok()) {
      std::cerr << "vigil generate: " << x.status().message() << "\n";
      return 2;
    }
    options.access_per_shift = *x;
  } else {
    Result<double> x = args.GetDouble("access-per-officer-day", 0, 100000);
    if (!x.ok()) {
      std::cerr << "vigil generate: " << x.status().message() << "\n";
      return 2;
    }
    options = RealisticVolume(options, *x);
  }
  {
    Result<double> x = args.GetDouble("benign-rate", 0, 100);
    if (!x.ok()) {
      std::cerr << "vigil generate: " << x.status().message() << "\n";
      return 2;
    }
    options.benign_rate = *x;
  }
  if (args.Has("events-per-day")) {
    Result<long long> rate = args.GetInt("events-per-day", 1, 1000000000000LL);
    if (!rate.ok()) {
      std::cerr << "vigil generate: " << rate.status().message() << "\n";
      return 2;
    }
    constexpr double kRosterPerOfficerDay = 0.85;
    options = RealisticVolume(
        options, std::max(0.0, static_cast<double>(*rate) / static_cast<double>(options.officers) - kRosterPerOfficerDay));
  }
  options.plant = !args.Has("no-plant");
  if (!options.plant && args.Has("benign-rate") && options.benign_rate > 0) {
    std::cerr << "vigil generate: --benign-rate needs planting (benign cases are planted like the "
                 "patterns); drop --no-plant or --benign-rate\n";
    return 2;
  }

  const std::string output = dry_run ? "-" : args.Get("output");
  std::ofstream file;
  if (output != "-") {
    file.open(output, std::ios::binary | std::ios::trunc);
    if (!file) {
      std::cerr << "vigil generate: cannot write " << output << "\n";
      return 2;
    }
  }
  std::ostream& out = output == "-" ? std::cout : file;
  const Clock& clock = SystemClock();
  const Millis began = clock.NowMillis();
  const bool progress = !args.Has("quiet") && options.officers * options.days >= 100000;

  SyntheticForce force(options);
  for (const auto& [flag, text] : {std::pair<const char*, std::string>{"plan", PlanToJson(options, force.plan())},
                                   {"labels", LabelsToNdjson(LabelsOf(force.plan()))}}) {
    if (!args.Has(flag)) continue;
    std::ofstream file_out(args.Get(flag), std::ios::trunc);
    file_out << text;
    if (!file_out) {
      std::cerr << "vigil generate: cannot write " << args.Get(flag) << "\n";
      return 2;
    }
  }
  std::string line;
  ForceStats stats = force.Generate(
      [&](const v1::Envelope& e) {
        if (dry_run) return;
        line = ToJsonLine(e);
        line += '\n';
        out.write(line.data(), static_cast<std::streamsize>(line.size()));
      },
      [&](int done, int total, const ForceStats& so_far) {
        if (progress) {
          std::cerr << "generate: day " << done << "/" << total << ", " << so_far.total() << " events\n";
        }
      });
  out.flush();
  if (!out) {
    std::cerr << "vigil generate: writing " << output << " failed\n";
    return 1;
  }
  const double seconds = static_cast<double>(clock.NowMillis() - began) / 1000;
  int planted = 0, near = 0, benign = 0;
  for (const auto& p : force.plan()) (p.near_miss ? near : p.benign ? benign : planted)++;
  if (!args.Has("quiet")) {
    char rate[64];
    std::snprintf(rate, sizeof rate, "%.1f s (%.0f events/s)", seconds,
                  seconds > 0 ? static_cast<double>(stats.total()) / seconds : 0.0);
    std::cerr << "generate: " << options.officers << " officers, " << options.days << " days: "
              << stats.total() << " events (" << stats.roster << " roster, " << stats.access
              << " access, " << stats.complaints << " complaints), " << planted
              << " planted patterns, " << near << " near misses and " << benign << " benign cases, in "
              << rate << "\n";
  }
  return 0;
}

}  // namespace vigil

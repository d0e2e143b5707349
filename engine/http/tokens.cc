#include "tokens.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace vigil::http {
namespace {

constexpr size_t kMinToken = 16;
constexpr size_t kMaxToken = 256;

struct RoleName {
  Role role;
  const char* name;
};
constexpr RoleName kRoles[] = {{Role::kMisconduct, "misconduct"},
                               {Role::kWelfare, "welfare"},
                               {Role::kReviewer, "reviewer"},
                               {Role::kAuditor, "auditor"}};

// 0 when a == b, else non-zero; always kMaxToken + 1 steps whatever the inputs (a is a parsed
// token, at most kMaxToken long; a longer b differs by its length).
unsigned FixedTimeDiffer(std::string_view a, std::string_view b) {
  volatile unsigned diff = static_cast<unsigned>(a.size() != b.size());
  for (size_t i = 0; i < kMaxToken; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff = diff | static_cast<unsigned>(x ^ y);
  }
  return diff;
}

}  // namespace

bool Identity::MaySee(v1::Alert::Kind kind) const {
  return (kind == v1::Alert::MISCONDUCT && Has(Role::kMisconduct)) ||
         (kind == v1::Alert::WELFARE && Has(Role::kWelfare));
}

std::vector<std::string> Identity::RoleNames() const {
  std::vector<std::string> names;
  for (const RoleName& r : kRoles) {
    if (Has(r.role)) names.push_back(r.name);
  }
  return names;
}

Result<std::vector<TokenEntry>> ParseTokens(std::string_view text, const std::string& source) {
  std::vector<TokenEntry> entries;
  std::set<std::string> seen;
  std::istringstream in{std::string(text)};
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream fields(line);
    std::string token, name, roles, extra;
    if (!(fields >> token)) continue;  // blank or comment
    auto error = [&](const std::string& what) {
      return Status::Error(source + ":" + std::to_string(number) + ": " + what);
    };
    if (!(fields >> name >> roles)) return error("expected TOKEN NAME ROLE[,ROLE...]");
    if (fields >> extra) return error("unexpected '" + extra + "' after the roles");
    if (token.size() < kMinToken || token.size() > kMaxToken) {
      return error("a token must be " + std::to_string(kMinToken) + " to " +
                   std::to_string(kMaxToken) + " characters");
    }
    for (unsigned char c : token) {
      if (c < 0x21 || c > 0x7e) return error("a token must be printable ASCII");
    }
    if (!seen.insert(token).second) return error("the same token is given twice (name " + name + ")");
    TokenEntry entry{token, Identity{name, 0}};
    for (size_t start = 0; start <= roles.size();) {
      size_t comma = std::min(roles.find(',', start), roles.size());
      const std::string role = roles.substr(start, comma - start);
      start = comma + 1;
      const RoleName* found = nullptr;
      for (const RoleName& r : kRoles) {
        if (role == r.name) found = &r;
      }
      if (!found) return error("unknown role '" + role + "' (misconduct, welfare, reviewer, auditor)");
      entry.identity.roles |= static_cast<uint8_t>(found->role);
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

Status TokenStore::Reload(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::Error("cannot read the tokens file " + path);
  std::stringstream text;
  text << in.rdbuf();
  Result<std::vector<TokenEntry>> parsed = ParseTokens(text.str(), path);
  if (!parsed.ok()) return parsed.status();
  auto tokens = std::make_shared<const std::vector<TokenEntry>>(std::move(parsed.value()));
  std::lock_guard<std::mutex> lock(mutex_);
  tokens_ = std::move(tokens);
  ++generation_;
  return Status::Ok();
}

std::optional<Identity> TokenStore::Authenticate(std::string_view bearer) const {
  std::shared_ptr<const std::vector<TokenEntry>> tokens;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    tokens = tokens_;
  }
  const TokenEntry* match = nullptr;
  for (const TokenEntry& entry : *tokens) {  // every token, no early exit
    bool same = FixedTimeDiffer(entry.token, bearer) == 0;
    if (same) match = &entry;
  }
  if (bearer.empty() || !match) return std::nullopt;
  return match->identity;
}

uint64_t TokenStore::generation() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return generation_;
}

size_t TokenStore::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return tokens_->size();
}

}  // namespace vigil::http

// The dashboard's tokens file and who a bearer token is (DASHBOARD.md, "Tokens and roles").
//
// File: one token a line, `TOKEN NAME ROLE[,ROLE...]`; `#` starts a comment; blank lines ignored.
// A token is 16 to 256 printable ASCII characters; NAME is who the token is in the audit; roles
// are misconduct, welfare, reviewer, auditor. A bad line is an error naming its line number.
//
// TokenStore is thread-safe: Authenticate() may run on any number of threads while Reload()
// replaces the tokens (a failed reload keeps the old ones).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alert.pb.h"
#include "status.h"

namespace vigil::http {

enum class Role : uint8_t { kMisconduct = 1, kWelfare = 2, kReviewer = 4, kAuditor = 8 };

struct Identity {
  std::string name;
  uint8_t roles = 0;  // Role bits

  bool Has(Role role) const { return roles & static_cast<uint8_t>(role); }
  // misconduct sees MISCONDUCT alerts, welfare sees WELFARE alerts; nothing sees other kinds.
  bool MaySee(v1::Alert::Kind kind) const;
  std::vector<std::string> RoleNames() const;  // in the order of Role
};

struct TokenEntry {
  std::string token;
  Identity identity;
};

// Parses a tokens file's text; `source` names it in errors ("tokens.txt:3: unknown role 'x'").
Result<std::vector<TokenEntry>> ParseTokens(std::string_view text, const std::string& source);

class TokenStore {
 public:
  // Reads the file; on error keeps the tokens it had (none at first) and says why.
  Status Reload(const std::string& path);
  // The identity of `bearer`, or nothing. Compares `bearer` with every token, each over the same
  // fixed length, so the time taken says nothing about which bytes matched.
  std::optional<Identity> Authenticate(std::string_view bearer) const;
  // Changes at every successful Reload(): holders of an identity re-check it.
  uint64_t generation() const;
  size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const std::vector<TokenEntry>> tokens_ = std::make_shared<std::vector<TokenEntry>>();
  uint64_t generation_ = 0;
};

}  // namespace vigil::http

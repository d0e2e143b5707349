#include "alert_index.h"

#include <algorithm>
#include <charconv>
#include <mutex>

#include "event.h"

namespace vigil::http {

std::string Position::ToString() const {
  return std::to_string(partition) + ":" + std::to_string(offset);
}

std::optional<Position> Position::Parse(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  Position p;
  const char* end = text.data() + colon;
  auto [pend, perr] = std::from_chars(text.data(), end, p.partition);
  if (perr != std::errc() || pend != end || p.partition < 0) return std::nullopt;
  end = text.data() + text.size();
  auto [oend, oerr] = std::from_chars(text.data() + colon + 1, end, p.offset);
  if (oerr != std::errc() || oend != end || p.offset < 0) return std::nullopt;
  return p;
}

bool AlertIndex::Add(v1::Alert alert, Position position) {
  std::function<void()> listener;
  {
    std::unique_lock<std::shared_mutex> lock(mutex_);
    if (by_id_.count(alert.alert_id())) {
      resume_[position] = alerts_.size();
      return false;
    }
    auto indexed = std::make_shared<IndexedAlert>();
    indexed->json = ToJsonLine(alert);
    indexed->alert = std::move(alert);
    indexed->position = position;
    indexed->sequence = alerts_.size() + 1;
    by_id_[indexed->alert.alert_id()] = indexed->sequence;
    resume_[position] = indexed->sequence;
    by_officer_[indexed->alert.officer_id()].push_back(indexed->sequence);
    alerts_.push_back(std::move(indexed));
    listener = listener_;
  }
  if (listener) listener();
  return true;
}

void AlertIndex::SetListener(std::function<void()> listener) {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  listener_ = std::move(listener);
}

uint64_t AlertIndex::last_sequence() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return alerts_.size();
}

AlertRef AlertIndex::Find(const std::string& alert_id) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  auto it = by_id_.find(alert_id);
  return it == by_id_.end() ? nullptr : alerts_[it->second - 1];
}

std::optional<uint64_t> AlertIndex::ResumePoint(Position position) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  auto it = resume_.find(position);
  if (it == resume_.end()) return std::nullopt;
  return it->second;
}

AlertIndex::Scan AlertIndex::After(uint64_t after, const AlertFilter& filter, size_t limit) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  Scan scan;
  scan.scanned_to = std::min<uint64_t>(after, alerts_.size());
  while (scan.scanned_to < alerts_.size() && scan.alerts.size() < limit) {
    const AlertRef& alert = alerts_[scan.scanned_to++];
    if (filter(alert->alert)) scan.alerts.push_back(alert);
  }
  return scan;
}

std::vector<AlertRef> AlertIndex::Recent(const AlertFilter& filter, size_t limit) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  std::vector<AlertRef> out;
  for (auto it = alerts_.rbegin(); it != alerts_.rend() && out.size() < limit; ++it) {
    if (filter((*it)->alert)) out.push_back(*it);
  }
  return out;
}

AlertIndex::Page AlertIndex::ForOfficer(const std::string& officer_id, std::optional<uint64_t> before,
                                        const AlertFilter& filter, size_t limit) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  Page page;
  auto it = by_officer_.find(officer_id);
  if (it == by_officer_.end()) return page;
  const std::vector<uint64_t>& sequences = it->second;  // ascending
  auto end = before ? std::lower_bound(sequences.begin(), sequences.end(), *before) : sequences.end();
  for (auto s = std::make_reverse_iterator(end); s != sequences.rend(); ++s) {
    const AlertRef& alert = alerts_[*s - 1];
    if (!filter(alert->alert)) continue;
    if (page.alerts.size() == limit) {
      page.more = true;
      break;
    }
    page.alerts.push_back(alert);
  }
  return page;
}

AlertIndex::Summary AlertIndex::Summarize(int days, const AlertFilter& filter) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  Summary summary;
  std::optional<Millis> newest;
  for (const AlertRef& a : alerts_) {
    if (!filter(a->alert)) continue;
    Millis day = DayStart(ToMillis(a->alert.window_end()));
    if (!newest || day > *newest) newest = day;
  }
  const Millis last = newest.value_or(DayStart(SystemClock().NowMillis()));
  const Millis first = last - (days - 1) * kDay;
  for (Millis d = first; d <= last; d += kDay) summary.days.push_back(d);
  for (auto severity : {v1::Alert::LOW, v1::Alert::MEDIUM, v1::Alert::HIGH}) {
    summary.by_severity[severity].assign(days, 0);
  }
  for (const AlertRef& a : alerts_) {
    Millis day = DayStart(ToMillis(a->alert.window_end()));
    if (day < first || day > last || !filter(a->alert)) continue;
    size_t i = static_cast<size_t>((day - first) / kDay);
    auto& rule = summary.by_rule[a->alert.rule_id()];
    if (rule.empty()) rule.assign(days, 0);
    ++rule[i];
    auto severity = summary.by_severity.find(a->alert.severity());
    if (severity != summary.by_severity.end()) ++severity->second[i];
    summary.alert_ids.push_back(a->alert.alert_id());
  }
  return summary;
}

}  // namespace vigil::http

#include "upstream/response_head.h"

#include <cctype>
#include <cstdlib>

#include "base/json_writer.h"

namespace llmrelay {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view ResponseHead::media_type() const {
  std::string_view type = content_type;
  const size_t semi = type.find(';');
  if (semi != std::string_view::npos) type = type.substr(0, semi);
  return Trim(type);
}

void ResponseHead::AppendRecordJson(std::string& out) const {
  out.append("{\"status\":");
  AppendInt(out, status);
  out.append(",\"httpVersion\":");
  out.append(http_version == 2 ? "\"2\"" : "\"1.1\"");
  out.append(",\"headers\":");
  out.append(headers_json.empty() ? "{}" : headers_json);
  out.push_back('}');
}

bool ResponseHeadParser::OnLine(std::string_view line) {
  if (line.compare(0, 5, "HTTP/") == 0) {
    head_ = ResponseHead{};
    const size_t sp = line.find(' ');
    if (sp != std::string_view::npos && line.size() >= sp + 4) {
      head_.status = std::strtol(std::string(line.substr(sp + 1, 3)).c_str(), nullptr, 10);
    }
    head_.http_version = line.compare(0, 6, "HTTP/2") == 0 ? 2 : 1;
    return false;
  }
  const std::string_view trimmed = Trim(line);
  if (trimmed.empty()) {
    if (head_.status < 200 || head_.complete) return false;
    head_.complete = true;
    if (head_.headers_json.empty()) head_.headers_json = "{";
    head_.headers_json.push_back('}');
    return true;
  }
  if (head_.complete) return false;  // trailers: not part of the head
  const size_t colon = trimmed.find(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view name = Trim(trimmed.substr(0, colon));
  const std::string_view value = Trim(trimmed.substr(colon + 1));
  if (EqualsIgnoreCase(name, "content-type")) head_.content_type.assign(value);
  if (EqualsIgnoreCase(name, "content-encoding")) head_.content_encoding.assign(value);
  if (EqualsIgnoreCase(name, "retry-after")) head_.retry_after.assign(value);
  if (EqualsIgnoreCase(name, "retry-after-ms")) head_.retry_after_ms.assign(value);
  head_.headers_json.push_back(head_.headers_json.empty() ? '{' : ',');
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  AppendJsonString(head_.headers_json, lower);
  head_.headers_json.push_back(':');
  AppendJsonString(head_.headers_json, value);
  return false;
}

}  // namespace llmrelay

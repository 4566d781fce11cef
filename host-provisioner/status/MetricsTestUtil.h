// SPDX-License-Identifier: GPL-2.0
//
// For tests of the metrics: an HTTP GET over loopback, a reader of the
// text exposition format, promtool, and the table that ties each per-VM
// metric to the status document's field it must equal.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/Maybe.h"

namespace htier::testing {

// A loopback port nothing listens on now (the kernel's choice).
inline uint16_t freeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

// The body of http://127.0.0.1:PORT/PATH (HTTP/1.0: the server closes).
inline Maybe<std::string> httpGet(uint16_t port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    auto e = errnoError("connect 127.0.0.1:" + std::to_string(port));
    ::close(fd);
    return e;
  }
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  (void)!::write(fd, req.data(), req.size());
  std::string resp;
  char buf[8192];
  for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;)
    resp.append(buf, static_cast<size_t>(n));
  ::close(fd);
  size_t body = resp.find("\r\n\r\n");
  if (resp.rfind("HTTP/1.", 0) != 0 || body == std::string::npos)
    return makeError("not an HTTP response: " + resp.substr(0, 200));
  if (resp.find(" 200 ") > resp.find("\r\n"))
    return makeError("HTTP status: " + resp.substr(0, resp.find("\r\n")));
  return resp.substr(body + 4);
}

// Samples of a text exposition: "name{labels}" (as written) -> value.
inline std::map<std::string, double> parseExposition(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#')
      continue;
    size_t sp = line.rfind(' ');
    out[line.substr(0, sp)] = std::strtod(line.c_str() + sp + 1, nullptr);
  }
  return out;
}

// `promtool check metrics` of text: its exit status and what it said.
inline std::pair<int, std::string> promtoolCheck(const std::string& text) {
  char tmpl[] = "/tmp/htier-metrics-XXXXXX";
  int fd = ::mkstemp(tmpl);
  (void)!::write(fd, text.data(), text.size());
  ::close(fd);
  std::string cmd = std::string("promtool check metrics < ") + tmpl + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string said;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof(buf), p))
    said.append(buf, n);
  int st = ::pclose(p);
  ::unlink(tmpl);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, said};
}

inline bool havePromtool() {
  return std::system("command -v promtool >/dev/null 2>&1") == 0;
}

// Per-VM metric (labelled vm="<name>") -> the status document's field of
// each vms[] entry that it must equal.
inline const std::vector<std::pair<std::string, std::string>>&
vmMetricFields() {
  static const std::vector<std::pair<std::string, std::string>> t = {
      {"htier_provisiond_vm_quota_bytes", "quota_bytes"},
      {"htier_provisiond_vm_fast_requested_bytes", "requested_bytes"},
      {"htier_provisiond_vm_fast_plugged_bytes", "plugged_bytes"},
      {"htier_provisiond_vm_fast_charged_bytes", "charged_bytes"},
      {"htier_provisiond_vm_fast_device_max_bytes", "device_max_bytes"},
      {"htier_provisiond_vm_min_fast_bytes", "min_fast_bytes"},
      {"htier_provisiond_vm_max_fast_bytes", "max_fast_bytes"},
      {"htier_provisiond_vm_weight", "weight"},
      {"htier_provisiond_vm_stuck", "stuck"},
      {"htier_provisiond_vm_shrink_pending", "shrink_pending"},
      {"htier_provisiond_vm_awaiting_report", "awaiting_report"},
      {"htier_provisiond_vm_guest_link_up", "link_connected"},
      {"htier_provisiond_vm_guest_reports_total", "reports"},
      {"htier_provisiond_vm_guest_curves_dropped_total", "curves_dropped"},
      {"htier_provisiond_vm_decisions_total", "decisions"},
      {"htier_provisiond_vm_resizes_total", "resizes"},
      {"htier_provisiond_vm_qmp_errors_total", "qmp_errors"},
  };
  return t;
}

// Only for VMs whose guest has reported (has_report).
inline const std::vector<std::pair<std::string, std::string>>&
vmReportMetricFields() {
  static const std::vector<std::pair<std::string, std::string>> t = {
      {"htier_provisiond_vm_guest_hot_set_bytes", "hot_set_bytes"},
      {"htier_provisiond_vm_guest_fast_resident_bytes", "fast_resident_bytes"},
      {"htier_provisiond_vm_guest_slow_resident_bytes", "slow_resident_bytes"},
  };
  return t;
}

// Every disagreement between a status document and the metrics scraped
// with it, one line each; empty when they agree.
inline std::vector<std::string> metricsVersusStatus(
    const std::map<std::string, double>& metrics, const nlohmann::json& st) {
  std::vector<std::string> bad;
  auto expect = [&](const std::string& key, const nlohmann::json& want) {
    auto it = metrics.find(key);
    double w =
        want.is_boolean() ? (want.get<bool>() ? 1 : 0) : want.get<double>();
    if (it == metrics.end())
      bad.push_back(key + " missing (status: " + want.dump() + ")");
    else if (it->second != w)
      bad.push_back(key + " = " + std::to_string(it->second) +
                    ", status says " + want.dump());
  };
  expect("htier_provisiond_fast_capacity_bytes", st["capacity_bytes"]);
  expect("htier_provisiond_fast_charged_bytes", st["charged_bytes"]);
  expect("htier_provisiond_policy_runs_total", st["policy_runs"]);
  expect("htier_provisiond_policy_info{policy=\"" +
             st["policy"].get<std::string>() + "\"}",
         1);
  for (const auto& vm : st["vms"]) {
    std::string sel = "{vm=\"" + vm["name"].get<std::string>() + "\"";
    for (const auto& [metric, field] : vmMetricFields())
      expect(metric + sel + "}", vm[field]);
    if (vm["has_report"].get<bool>())
      for (const auto& [metric, field] : vmReportMetricFields())
        expect(metric + sel + "}", vm[field]);
    if (vm.contains("size_events"))
      expect("htier_provisiond_vm_size_events_total" + sel + "}",
             vm["size_events"]);
    if (vm.contains("slow_plugged_bytes")) {
      expect("htier_provisiond_vm_slow_plugged_bytes" + sel + "}",
             vm["slow_plugged_bytes"]);
      expect("htier_provisiond_vm_slow_requested_bytes" + sel + "}",
             vm["slow_requested_bytes"]);
    }
    expect("htier_provisiond_vm_phase" + sel + ",phase=\"" +
               vm["phase"].get<std::string>() + "\"}",
           1);
    uint64_t rejected = 0;
    for (const auto& [reason, n] : vm["rejected_by_reason"].items()) {
      expect("htier_provisiond_vm_guest_messages_rejected_total" + sel +
                 ",reason=\"" + reason + "\"}",
             n);
      rejected += n.get<uint64_t>();
    }
    if (rejected != vm["rejected_messages"].get<uint64_t>())
      bad.push_back("rejected_by_reason adds up to " +
                    std::to_string(rejected) + ", rejected_messages is " +
                    vm["rejected_messages"].dump());
  }
  return bad;
}

}  // namespace htier::testing

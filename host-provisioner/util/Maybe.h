// SPDX-License-Identifier: GPL-2.0
//
// Errors as values.  Everything that can fail at run time (sockets, QMP,
// parsing) returns a Maybe<T> instead of throwing, so the engine's control
// flow is visible at every call site and one failing VM never unwinds the
// loop that serves the others.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace htier {

struct Error {
  std::string message;
  int sysErrno = 0;  // the errno behind a failed system call, if any
};

struct Unit {};

template <class T>
class [[nodiscard]] Maybe {
 public:
  Maybe(T value) : v_(std::move(value)) {}
  Maybe(Error err) : v_(std::move(err)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(v_); }
  const std::string& message() const { return error().message; }

 private:
  std::variant<T, Error> v_;
};

using Status = Maybe<Unit>;

inline Status okStatus() {
  return Unit{};
}
inline Error makeError(std::string msg) {
  return Error{std::move(msg)};
}
inline Error makeSysError(std::string msg, int sysErrno) {
  return Error{std::move(msg), sysErrno};
}
// "<what>: <strerror(errno)>", keeping errno.
inline Error errnoError(const std::string& what) {
  int err = errno;
  return makeSysError(what + ": " + std::strerror(err), err);
}

}  // namespace htier

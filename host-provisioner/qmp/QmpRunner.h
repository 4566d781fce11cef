// SPDX-License-Identifier: GPL-2.0
//
// Where a VM's QMP calls run.  QMP is a blocking request/reply protocol
// with a timeout per command; a QEMU that greets and then goes silent makes
// each call wait out the timeout.  The engine therefore never calls a
// VmControl itself: it submits jobs to the VM's runner and applies their
// results on a later pass, so one wedged VM delays only its own work.
//
// A job runs with the VmControl (on the runner's side) and returns a
// completion, which the engine runs on its own thread when it collects it;
// a completion owns copies of everything the job found.  Jobs of one VM run
// one at a time, in the order submitted, on one connection.
//
//   ThreadQmpRunner: one thread per VM, a bounded queue of jobs; stop()
//     interrupts the command in progress; the destructor joins.
//   InlineQmpRunner: runs each job at once on the caller's thread (tests
//     with a scripted VmControl and a hand-driven clock).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "qmp/VirtioMem.h"

namespace htier {

class QmpRunner {
 public:
  using Completion = std::function<void()>;
  using Job = std::function<Completion(VmControl&)>;

  virtual ~QmpRunner() = default;
  // Queues job; false (and nothing queued) when the queue is full or the
  // runner is stopping.
  virtual bool submit(Job job) = 0;
  // The completion of the oldest finished job, if any.
  virtual std::optional<Completion> takeCompletion() = 0;
  // Asks the runner to stop: queued jobs are dropped, a command in
  // progress fails at once.  Does not wait.
  virtual void stop() = 0;
};

class InlineQmpRunner : public QmpRunner {
 public:
  explicit InlineQmpRunner(std::unique_ptr<VmControl> control)
      : control_(std::move(control)) {}
  bool submit(Job job) override;
  std::optional<Completion> takeCompletion() override;
  void stop() override { stopped_ = true; }

 private:
  std::unique_ptr<VmControl> control_;
  std::deque<Completion> done_;
  bool stopped_ = false;
};

class ThreadQmpRunner : public QmpRunner {
 public:
  // A VM has at most a connect, or a size poll and one qom-set per
  // device, outstanding; the bound only guards against a bug.
  static constexpr size_t kMaxQueued = 8;

  ThreadQmpRunner(std::string name, std::unique_ptr<VmControl> control);
  ~ThreadQmpRunner() override;
  ThreadQmpRunner(const ThreadQmpRunner&) = delete;
  ThreadQmpRunner& operator=(const ThreadQmpRunner&) = delete;

  bool submit(Job job) override;
  std::optional<Completion> takeCompletion() override;
  void stop() override;

 private:
  void run();

  std::string name_;
  std::unique_ptr<VmControl> control_;  // used by the worker thread only
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  std::deque<Completion> done_;
  bool stopping_ = false;
  std::thread worker_;  // last: started once everything above exists
};

std::unique_ptr<QmpRunner> runInline(std::unique_ptr<VmControl> control);
std::unique_ptr<QmpRunner> runOnThread(std::string name,
                                       std::unique_ptr<VmControl> control);

}  // namespace htier

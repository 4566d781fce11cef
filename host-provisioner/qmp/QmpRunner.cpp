// SPDX-License-Identifier: GPL-2.0
#include "qmp/QmpRunner.h"

#include <exception>

#include "util/Log.h"

namespace htier {

namespace {

// No exception leaves a job: a bug in one VM's job must not end the
// thread (std::terminate) or the daemon.
QmpRunner::Completion runJob(const std::string& name, QmpRunner::Job& job,
                             VmControl& control) {
  try {
    return job(control);
  } catch (const std::exception& e) {
    HLOG(kError) << name << ": QMP job failed: " << e.what();
  } catch (...) {
    HLOG(kError) << name << ": QMP job failed";
  }
  return nullptr;
}

}  // namespace

bool InlineQmpRunner::submit(Job job) {
  if (stopped_)
    return false;
  if (Completion done = runJob("qmp", job, *control_))
    done_.push_back(std::move(done));
  return true;
}

std::optional<QmpRunner::Completion> InlineQmpRunner::takeCompletion() {
  if (done_.empty())
    return std::nullopt;
  Completion c = std::move(done_.front());
  done_.pop_front();
  return c;
}

ThreadQmpRunner::ThreadQmpRunner(std::string name,
                                 std::unique_ptr<VmControl> control)
    : name_(std::move(name)),
      control_(std::move(control)),
      worker_([this] { run(); }) {}

ThreadQmpRunner::~ThreadQmpRunner() {
  stop();
  worker_.join();
}

bool ThreadQmpRunner::submit(Job job) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_ || jobs_.size() >= kMaxQueued)
    return false;
  jobs_.push_back(std::move(job));
  wake_.notify_one();
  return true;
}

std::optional<QmpRunner::Completion> ThreadQmpRunner::takeCompletion() {
  std::lock_guard<std::mutex> lock(mu_);
  if (done_.empty())
    return std::nullopt;
  Completion c = std::move(done_.front());
  done_.pop_front();
  return c;
}

void ThreadQmpRunner::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_)
      return;
    stopping_ = true;
    jobs_.clear();
    wake_.notify_one();
  }
  control_->interrupt();  // thread-safe: wakes a command waiting on QEMU
}

void ThreadQmpRunner::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_)
        return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    Completion done = runJob(name_, job, *control_);
    std::lock_guard<std::mutex> lock(mu_);
    if (done && !stopping_)
      done_.push_back(std::move(done));
  }
}

std::unique_ptr<QmpRunner> runInline(std::unique_ptr<VmControl> control) {
  return std::make_unique<InlineQmpRunner>(std::move(control));
}

std::unique_ptr<QmpRunner> runOnThread(std::string name,
                                       std::unique_ptr<VmControl> control) {
  return std::make_unique<ThreadQmpRunner>(std::move(name), std::move(control));
}

}  // namespace htier

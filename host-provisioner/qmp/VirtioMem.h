// SPDX-License-Identifier: GPL-2.0
//
// virtio-mem over QMP, as checked against QEMU 7.2 (design.md):
//   - block-size, size, requested-size are qom properties of
//     /machine/peripheral/<id>; max size is the size of the memdev backend
//     (qom-get <id> memdev -> "/objects/vmem0"; qom-get that size);
//   - qom-set requested-size takes an integer, a multiple of block-size, at
//     most the backend size;
//   - size follows requested-size only when the guest driver plugs or
//     unplugs, and may stay above it for good when the guest cannot unplug.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "qmp/QmpClient.h"
#include "util/Maybe.h"

namespace htier {

struct DeviceInfo {
  uint64_t blockBytes = 0;
  uint64_t maxBytes = 0;
  uint64_t sizeBytes = 0;
  uint64_t requestedBytes = 0;
};

// Which devices of a VM the engine manages, and where its guest link is.
struct VmDevices {
  std::string fast;
  std::optional<std::string> slow;
  // Set where the backend finds the guest link's socket itself (libvirt:
  // the domain's org.htier.0 channel); else the configured one is used.
  std::optional<std::string> channelPath;
};

// What the engine needs from a VM's control plane (QMP, or libvirt:
// libvirt/LibvirtVmControl.h); a seam for tests.
class VmControl {
 public:
  virtual ~VmControl() = default;
  virtual Status connect() = 0;
  virtual bool connected() const = 0;
  // After a connect: the devices to manage.  QMP takes the configured
  // ids; libvirt finds them in the domain's XML.
  virtual Maybe<VmDevices> findDevices(const VmDevices& configured) {
    return configured;
  }
  virtual Maybe<DeviceInfo> describe(const std::string& device) = 0;
  virtual Maybe<uint64_t> size(const std::string& device) = 0;
  virtual Maybe<uint64_t> requestedSize(const std::string& device) = 0;
  virtual Status setRequestedSize(const std::string& device,
                                  uint64_t bytes) = 0;
  // The one call that may come from another thread than the others: makes
  // the command in progress fail at once (shutdown).
  virtual void interrupt() {}
  // Size-change events the backend has received, where it follows them
  // (libvirt); QMP's sizes are polled: none.
  virtual std::optional<uint64_t> sizeEvents() const { return std::nullopt; }
};

class QmpVmControl : public VmControl {
 public:
  explicit QmpVmControl(std::unique_ptr<QmpClient> client)
      : client_(std::move(client)) {}

  Status connect() override { return client_->connect(); }
  bool connected() const override { return client_->connected(); }
  Maybe<DeviceInfo> describe(const std::string& device) override;
  Maybe<uint64_t> size(const std::string& device) override;
  Maybe<uint64_t> requestedSize(const std::string& device) override;
  Status setRequestedSize(const std::string& device, uint64_t bytes) override;
  void interrupt() override { client_->interrupt(); }

  QmpClient& client() { return *client_; }

 private:
  Maybe<uint64_t> getU64(const std::string& path, const std::string& prop);

  std::unique_ptr<QmpClient> client_;
};

std::string peripheralPath(const std::string& device);

}  // namespace htier

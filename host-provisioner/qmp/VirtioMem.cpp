// SPDX-License-Identifier: GPL-2.0
#include "qmp/VirtioMem.h"

#include "htier/protocol/excerpt.h"

namespace htier {

using json = nlohmann::json;

std::string peripheralPath(const std::string& device) {
  return "/machine/peripheral/" + device;
}

Maybe<uint64_t> QmpVmControl::getU64(const std::string& path,
                                     const std::string& prop) {
  auto r = client_->execute("qom-get", {{"path", path}, {"property", prop}});
  if (!r)
    return r.error();
  if (!r->is_number_unsigned())
    return makeError("qom-get " + path + " " + prop +
                     ": expected an unsigned integer, got " + protocol::describeJson(*r));
  return r->get<uint64_t>();
}

Maybe<DeviceInfo> QmpVmControl::describe(const std::string& device) {
  const std::string path = peripheralPath(device);
  DeviceInfo info;
  auto block = getU64(path, "block-size");
  if (!block)
    return block.error();
  auto memdev =
      client_->execute("qom-get", {{"path", path}, {"property", "memdev"}});
  if (!memdev)
    return memdev.error();
  if (!memdev->is_string())
    return makeError("qom-get " + path + " memdev: expected a path, got " +
                     protocol::describeJson(*memdev));
  auto max = getU64(memdev->get<std::string>(), "size");
  if (!max)
    return max.error();
  auto size = this->size(device);
  if (!size)
    return size.error();
  auto requested = requestedSize(device);
  if (!requested)
    return requested.error();
  if (*block == 0)
    return makeError(device + ": block-size is 0");
  info.blockBytes = *block;
  info.maxBytes = *max;
  info.sizeBytes = *size;
  info.requestedBytes = *requested;
  return info;
}

Maybe<uint64_t> QmpVmControl::size(const std::string& device) {
  return getU64(peripheralPath(device), "size");
}

Maybe<uint64_t> QmpVmControl::requestedSize(const std::string& device) {
  return getU64(peripheralPath(device), "requested-size");
}

Status QmpVmControl::setRequestedSize(const std::string& device,
                                      uint64_t bytes) {
  auto r = client_->execute("qom-set", {{"path", peripheralPath(device)},
                                        {"property", "requested-size"},
                                        {"value", bytes}});
  if (!r)
    return r.error();
  return okStatus();
}

}  // namespace htier

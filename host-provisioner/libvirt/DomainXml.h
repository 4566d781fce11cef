// SPDX-License-Identifier: GPL-2.0
//
// What htier needs from a libvirt domain's live XML (virDomainGetXMLDesc),
// read with libxml2:
//   - each <memory model='virtio-mem'> device: its <alias name>, <target>
//     <node>, <block>, <size> (the most it can plug), <requested> and, in a
//     running domain's XML, <current> (what the guest has plugged); sizes
//     carry a unit attribute (libvirt writes KiB);
//   - the <channel> whose <target type='virtio' name='org.htier.0'/>: its
//     <source mode='bind' path> is the unix socket QEMU listens on for the
//     guest link;
//   - the domain's id attribute, present only while it runs (a new id is a
//     new QEMU).
// And the XML of one <memory> element with a new <requested>, which is what
// virDomainUpdateDeviceFlags() takes to resize it (its <address> included,
// or libvirt does not find the device).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "qmp/VirtioMem.h"
#include "util/Maybe.h"

namespace htier {

constexpr const char* kHtierChannelName = "org.htier.0";

struct VirtioMemXml {
  // The device id the engine sees: libvirt's alias ("virtiomem0"); a
  // domain that has none (libvirt's test driver) gets "node<N>".
  std::string id;
  unsigned node = 0;
  // blockBytes, maxBytes (<size>), requestedBytes, sizeBytes (<current>).
  DeviceInfo info;
  bool hasCurrent = false;  // only a running domain's XML has <current>
};

struct DomainXml {
  std::string name;
  std::optional<long> id;  // <domain id='N'>: set while the domain runs
  std::vector<VirtioMemXml> virtioMem;
  // org.htier.0's socket path, or why there is none usable (a channel of
  // another type, or one QEMU connects out from).
  std::optional<std::string> channelPath;
  std::string channelProblem;

  const VirtioMemXml* deviceById(const std::string& id) const;
  // The devices on a guest NUMA node (normally at most one).
  std::vector<const VirtioMemXml*> devicesOnNode(unsigned node) const;
};

Maybe<DomainXml> parseDomainXml(const std::string& xml);

// The <memory> element of the virtio-mem device @id in @domainXml, as it
// stands there (alias, address and all), with <requested> set to
// @requestedBytes (in KiB, which must be whole).
Maybe<std::string> memoryUpdateXml(const std::string& domainXml,
                                   const std::string& id,
                                   uint64_t requestedBytes);

// A libvirt scaled integer: @value in @unit ("" = KiB; b/bytes, KB, k/KiB,
// MB, M/MiB, GB, G/GiB, TB, T/TiB, PB, P/PiB, EB, E/EiB) as bytes.
Maybe<uint64_t> libvirtScaledBytes(const std::string& value,
                                   const std::string& unit);

}  // namespace htier

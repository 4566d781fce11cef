// SPDX-License-Identifier: GPL-2.0
#include "libvirt/DomainXml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <charconv>
#include <cstring>
#include <memory>
#include <mutex>

namespace htier {

namespace {

struct DocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
struct CtxtFree {
  void operator()(xmlParserCtxt* c) const { xmlFreeParserCtxt(c); }
};
struct XmlCharFree {
  void operator()(xmlChar* s) const { xmlFree(s); }
};
struct BufferFree {
  void operator()(xmlBuffer* b) const { xmlBufferFree(b); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocFree>;

// A domain's XML is a few KiB; far more is not libvirt's.
constexpr size_t kMaxDomainXmlBytes = 16 << 20;

const char* cstr(const xmlChar* s) {
  return reinterpret_cast<const char*>(s);
}

bool named(const xmlNode* n, const char* name) {
  return n && n->type == XML_ELEMENT_NODE &&
         std::strcmp(cstr(n->name), name) == 0;
}

xmlNode* child(const xmlNode* parent, const char* name) {
  for (xmlNode* c = parent ? parent->children : nullptr; c; c = c->next)
    if (named(c, name))
      return c;
  return nullptr;
}

std::optional<std::string> attr(const xmlNode* n, const char* name) {
  if (!n)
    return std::nullopt;
  std::unique_ptr<xmlChar, XmlCharFree> v(
      xmlGetProp(n, reinterpret_cast<const xmlChar*>(name)));
  if (!v)
    return std::nullopt;
  return std::string(cstr(v.get()));
}

std::string text(const xmlNode* n) {
  std::unique_ptr<xmlChar, XmlCharFree> v(xmlNodeGetContent(n));
  std::string s = v ? cstr(v.get()) : "";
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

Maybe<DocPtr> parseDoc(const std::string& xml) {
  static std::once_flag init;
  std::call_once(init, [] { xmlInitParser(); });
  if (xml.size() > kMaxDomainXmlBytes)
    return makeError("domain XML of " + std::to_string(xml.size()) +
                     " bytes is too large");
  std::unique_ptr<xmlParserCtxt, CtxtFree> ctxt(xmlNewParserCtxt());
  if (!ctxt)
    return makeError("domain XML: out of memory");
  // No network, no entity expansion, nothing printed: errors are values.
  DocPtr doc(xmlCtxtReadMemory(
      ctxt.get(), xml.data(), static_cast<int>(xml.size()), "domain.xml",
      nullptr, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
  if (!doc) {
    const xmlError* e = xmlCtxtGetLastError(ctxt.get());
    std::string why = e && e->message ? e->message : "not well-formed";
    while (!why.empty() && why.back() == '\n')
      why.pop_back();
    return makeError("domain XML is malformed (line " +
                     std::to_string(e ? e->line : 0) + "): " + why);
  }
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (!named(root, "domain"))
    return makeError("domain XML: the root element is not <domain>");
  return doc;
}

// A sized element such as <size unit='KiB'>524288</size>; @what names it
// in errors.
Maybe<uint64_t> sizeOf(const xmlNode* target, const char* name,
                       const std::string& what) {
  const xmlNode* n = child(target, name);
  if (!n)
    return makeError(what + ": no <" + name + ">");
  auto bytes = libvirtScaledBytes(text(n), attr(n, "unit").value_or(""));
  if (!bytes)
    return makeError(what + " <" + name + ">: " + bytes.message());
  return bytes;
}

Maybe<VirtioMemXml> parseVirtioMem(const xmlNode* mem, size_t index) {
  std::string what = "virtio-mem device #" + std::to_string(index);
  const xmlNode* alias = child(mem, "alias");
  std::optional<std::string> aliasName = attr(alias, "name");
  if (aliasName)
    what += " (" + *aliasName + ")";
  const xmlNode* target = child(mem, "target");
  if (!target)
    return makeError(what + ": no <target>");
  VirtioMemXml d;
  const xmlNode* node = child(target, "node");
  if (!node)
    return makeError(what + ": no <node>");
  std::string nodeText = text(node);
  auto [end, ec] = std::from_chars(nodeText.data(),
                                   nodeText.data() + nodeText.size(), d.node);
  if (nodeText.empty() || ec != std::errc() ||
      end != nodeText.data() + nodeText.size())
    return makeError(what + ": <node> '" + nodeText + "' is not a node number");
  d.id = aliasName && !aliasName->empty() ? *aliasName
                                          : "node" + std::to_string(d.node);
  auto block = sizeOf(target, "block", what);
  auto max = sizeOf(target, "size", what);
  auto requested = sizeOf(target, "requested", what);
  for (const auto* m : {&block, &max, &requested})
    if (!*m)
      return m->error();
  if (*block == 0)
    return makeError(what + ": <block> is 0");
  d.info.blockBytes = *block;
  d.info.maxBytes = *max;
  d.info.requestedBytes = *requested;
  if (child(target, "current")) {
    auto current = sizeOf(target, "current", what);
    if (!current)
      return current.error();
    d.info.sizeBytes = *current;
    d.hasCurrent = true;
  }
  return d;
}

bool isVirtioMem(const xmlNode* n) {
  return named(n, "memory") && attr(n, "model") == "virtio-mem";
}

void findChannel(const xmlNode* ch, DomainXml& out) {
  const xmlNode* target = child(ch, "target");
  if (attr(target, "type") != "virtio" ||
      attr(target, "name") != kHtierChannelName)
    return;
  const xmlNode* source = child(ch, "source");
  std::optional<std::string> path = attr(source, "path");
  if (attr(ch, "type") != "unix" || !path || path->empty()) {
    out.channelProblem = std::string("the ") + kHtierChannelName +
                         " channel is not type='unix' with a source path";
    return;
  }
  std::string mode = attr(source, "mode").value_or("bind");
  if (mode != "bind") {
    out.channelProblem = std::string("the ") + kHtierChannelName +
                         " channel has <source mode='" + mode +
                         "'>; htier connects to it, so it must be "
                         "mode='bind' (QEMU listens)";
    return;
  }
  out.channelPath = *path;
}

}  // namespace

const VirtioMemXml* DomainXml::deviceById(const std::string& id) const {
  for (const auto& d : virtioMem)
    if (d.id == id)
      return &d;
  return nullptr;
}

std::vector<const VirtioMemXml*> DomainXml::devicesOnNode(unsigned node) const {
  std::vector<const VirtioMemXml*> out;
  for (const auto& d : virtioMem)
    if (d.node == node)
      out.push_back(&d);
  return out;
}

Maybe<uint64_t> libvirtScaledBytes(const std::string& value,
                                   const std::string& unit) {
  uint64_t v = 0;
  auto [end, ec] =
      std::from_chars(value.data(), value.data() + value.size(), v);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size())
    return makeError("'" + value + "' is not a non-negative integer");
  struct Scale {
    const char* unit;
    uint64_t factor;
  };
  static const Scale kScales[] = {
      {"", 1024},
      {"b", 1},
      {"bytes", 1},
      {"KB", 1000},
      {"k", 1024},
      {"KiB", 1024},
      {"MB", 1000000},
      {"M", 1 << 20},
      {"MiB", 1 << 20},
      {"GB", 1000000000},
      {"G", 1ull << 30},
      {"GiB", 1ull << 30},
      {"TB", 1000000000000ull},
      {"T", 1ull << 40},
      {"TiB", 1ull << 40},
      {"PB", 1000000000000000ull},
      {"P", 1ull << 50},
      {"PiB", 1ull << 50},
      {"EB", 1000000000000000000ull},
      {"E", 1ull << 60},
      {"EiB", 1ull << 60},
  };
  for (const auto& s : kScales) {
    if (unit != s.unit)
      continue;
    uint64_t bytes = 0;
    if (__builtin_mul_overflow(v, s.factor, &bytes))
      return makeError(value + " " + unit + " does not fit in 64 bits");
    return bytes;
  }
  return makeError("unknown unit '" + unit + "'");
}

Maybe<DomainXml> parseDomainXml(const std::string& xml) {
  auto doc = parseDoc(xml);
  if (!doc)
    return doc.error();
  const xmlNode* root = xmlDocGetRootElement(doc->get());
  DomainXml out;
  if (const xmlNode* name = child(root, "name"))
    out.name = text(name);
  if (auto id = attr(root, "id")) {
    long v = 0;
    auto [end, ec] = std::from_chars(id->data(), id->data() + id->size(), v);
    if (ec != std::errc() || end != id->data() + id->size())
      return makeError("domain XML: id '" + *id + "' is not a number");
    out.id = v;
  }
  const xmlNode* devices = child(root, "devices");
  size_t index = 0;
  for (const xmlNode* n = devices ? devices->children : nullptr; n;
       n = n->next) {
    if (isVirtioMem(n)) {
      auto d = parseVirtioMem(n, index++);
      if (!d)
        return d.error();
      out.virtioMem.push_back(std::move(*d));
    } else if (named(n, "channel") && !out.channelPath) {
      findChannel(n, out);
    }
  }
  if (out.channelPath)
    out.channelProblem.clear();
  return out;
}

Maybe<std::string> memoryUpdateXml(const std::string& domainXml,
                                   const std::string& id,
                                   uint64_t requestedBytes) {
  if (requestedBytes % 1024)
    return makeError("requested size " + std::to_string(requestedBytes) +
                     " is not a whole number of KiB");
  auto doc = parseDoc(domainXml);
  if (!doc)
    return doc.error();
  const xmlNode* root = xmlDocGetRootElement(doc->get());
  const xmlNode* devices = child(root, "devices");
  size_t index = 0;
  for (xmlNode* n = devices ? devices->children : nullptr; n; n = n->next) {
    if (!isVirtioMem(n))
      continue;
    auto d = parseVirtioMem(n, index++);
    if (!d)
      return d.error();
    if (d->id != id)
      continue;
    xmlNode* requested = child(child(n, "target"), "requested");
    std::string kib = std::to_string(requestedBytes / 1024);
    xmlNodeSetContent(requested, reinterpret_cast<const xmlChar*>(kib.c_str()));
    xmlSetProp(requested, reinterpret_cast<const xmlChar*>("unit"),
               reinterpret_cast<const xmlChar*>("KiB"));
    std::unique_ptr<xmlBuffer, BufferFree> buf(xmlBufferCreate());
    if (!buf || xmlNodeDump(buf.get(), doc->get(), n, 0, 0) < 0)
      return makeError("memory device " + id + ": cannot write its XML");
    return std::string(cstr(xmlBufferContent(buf.get())));
  }
  return makeError("no virtio-mem device '" + id + "' in the domain XML");
}

}  // namespace htier

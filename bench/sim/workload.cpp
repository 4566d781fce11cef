// SPDX-License-Identifier: GPL-2.0
#include "workload.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

namespace htier::sim {

namespace {

constexpr uint64_t kPageSize = 4096;

uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

double unit(uint64_t r) {
  return static_cast<double>(r >> 11) * (1.0 / 9007199254740992.0);
}

}  // namespace

std::optional<Model> parseModel(const std::string& name) {
  if (name == "hotset")
    return Model::Hotset;
  if (name == "scattered")
    return Model::Scattered;
  if (name == "uniform")
    return Model::Uniform;
  if (name == "zipf")
    return Model::Zipf;
  return std::nullopt;
}

const char* modelName(Model m) {
  switch (m) {
  case Model::Hotset: return "hotset";
  case Model::Scattered: return "scattered";
  case Model::Uniform: return "uniform";
  case Model::Zipf: return "zipf";
  }
  return "?";
}

ModelSource::ModelSource(const ModelParams& p) : p_(p), rng_(p.seed) {
  nrPages_ = std::max<uint64_t>(p.sizeBytes / kPageSize, 2);
  nrHot_ = p.model == Model::Uniform
               ? nrPages_
               : std::clamp<uint64_t>(p.hotBytes / kPageSize, 1, nrPages_ - 1);
  nrEpochs_ = static_cast<uint64_t>(std::llround(p.durationS * 1000 / p.epochMs));
  if (p.shiftAtS >= 0)
    shiftEpoch_ = static_cast<uint64_t>(std::llround(p.shiftAtS * 1000 / p.epochMs));

  if (p.model == Model::Scattered || p.model == Model::Zipf) {
    perm_.resize(nrPages_);
    for (uint64_t i = 0; i < nrPages_; i++)
      perm_[i] = static_cast<uint32_t>(i);
    uint64_t s = p.seed;
    for (uint64_t i = nrPages_ - 1; i > 0; i--)
      std::swap(perm_[i], perm_[splitmix64(s) % (i + 1)]);
  }

  const double perEpoch = p.updatesPerSecond * p.epochMs / 1000;
  rankCount_.resize(nrPages_);
  if (p.model == Model::Zipf) {
    double sum = 0;
    for (uint64_t r = 0; r < nrPages_; r++)
      sum += rankCount_[r] = 1.0 / std::pow(static_cast<double>(r + 1), p.zipfTheta);
    for (auto& c : rankCount_)
      c *= perEpoch / sum;
  } else {
    const double cold = static_cast<double>(nrPages_ - nrHot_);
    const double pHot = p.model == Model::Uniform
                            ? 1.0
                            : p.weight * nrHot_ / (p.weight * nrHot_ + cold);
    for (uint64_t r = 0; r < nrPages_; r++)
      rankCount_[r] = r < nrHot_ ? perEpoch * pHot / nrHot_
                                 : perEpoch * (1 - pHot) / cold;
  }
}

uint64_t ModelSource::rankPage(uint64_t rank, uint32_t gen) const {
  uint64_t i = (rank + gen * nrHot_) % nrPages_;
  return perm_.empty() ? i : perm_[i];
}

double ModelSource::expectedCount(uint64_t page, uint32_t gen) const {
  // Inverse of rankPage, for tests; linear but only used there.
  for (uint64_t r = 0; r < nrPages_; r++)
    if (rankPage(r, gen) == page)
      return rankCount_[r];
  return 0;
}

void ModelSource::buildGeneration(uint32_t gen) {
  gen_ = gen;
  count_.assign(nrPages_, 0);
  pAccess_.assign(nrPages_, 0);
  hot_.assign(nrPages_, 0);
  for (uint64_t r = 0; r < nrPages_; r++) {
    uint64_t page = rankPage(r, gen);
    count_[page] = rankCount_[r];
    pAccess_[page] = 1 - std::exp(-rankCount_[r]);
    hot_[page] = r < nrHot_;
  }
}

void ModelSource::fill(Epoch& e) {
  const uint32_t gen = e.index >= shiftEpoch_ ? 1 : 0;
  if (gen != gen_)
    buildGeneration(gen);
  e.count = count_;
  e.accessed.resize(nrPages_);
  for (uint64_t i = 0; i < nrPages_; i++)
    e.accessed[i] = unit(splitmix64(rng_)) < pAccess_[i];
  e.hot = &hot_;
  e.hotPages = nrHot_;
  e.shiftedHere = e.index == shiftEpoch_;
}

std::string ModelSource::describe() const {
  std::ostringstream o;
  o << modelName(p_.model) << ": " << (nrPages_ * kPageSize >> 20) << " MiB, hot "
    << (nrHot_ * kPageSize >> 20) << " MiB";
  if (p_.model == Model::Hotset || p_.model == Model::Scattered)
    o << " x" << p_.weight;
  if (p_.model == Model::Zipf)
    o << " theta " << p_.zipfTheta;
  o << ", " << p_.updatesPerSecond << " updates/s, " << p_.durationS << " s";
  if (p_.shiftAtS >= 0)
    o << ", shift at " << p_.shiftAtS << " s";
  return o.str();
}

TraceSource::TraceSource(const std::string& path, double epochMs) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("cannot open trace " + path);
  parse(in, path, epochMs);
}

std::unique_ptr<TraceSource> TraceSource::fromString(const std::string& text,
                                                     double epochMs) {
  std::unique_ptr<TraceSource> t(new TraceSource());
  std::istringstream in(text);
  t->parse(in, "<string>", epochMs);
  return t;
}

void TraceSource::parse(std::istream& in, const std::string& name,
                        double epochMs) {
  std::unordered_map<uint64_t, uint32_t> ids;
  std::string line;
  uint64_t lineNo = 0, records = 0;
  double total = 0;
  while (std::getline(in, line)) {
    lineNo++;
    auto hash = line.find('#');
    if (hash != std::string::npos)
      line.resize(hash);
    std::istringstream ls(line);
    double tMs, count;
    std::string vpnText;
    if (!(ls >> tMs)) {
      if (line.find_first_not_of(" \t\r") == std::string::npos)
        continue;  // blank or comment
      throw std::runtime_error(name + ":" + std::to_string(lineNo) +
                               ": expected \"t_ms vpn count\"");
    }
    std::string rest;
    if (!(ls >> vpnText >> count) || (ls >> rest) || tMs < 0 || count < 0)
      throw std::runtime_error(name + ":" + std::to_string(lineNo) +
                               ": expected \"t_ms vpn count\"");
    size_t used = 0;
    uint64_t vpn = 0;
    try {
      vpn = std::stoull(vpnText, &used, 0);  // decimal or 0x hex
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != vpnText.size())
      throw std::runtime_error(name + ":" + std::to_string(lineNo) +
                               ": bad vpn \"" + vpnText + "\"");
    auto [it, inserted] = ids.try_emplace(vpn, static_cast<uint32_t>(vpns_.size()));
    if (inserted)
      vpns_.push_back(vpn);
    uint64_t epoch = static_cast<uint64_t>(tMs / epochMs);
    if (epoch >= byEpoch_.size())
      byEpoch_.resize(epoch + 1);
    byEpoch_[epoch].emplace_back(it->second, count);
    records++;
    total += count;
  }
  std::ostringstream o;
  o << "trace " << name << ": " << records << " records, " << vpns_.size()
    << " pages, " << total << " accesses, " << byEpoch_.size() << " epochs";
  describe_ = o.str();
}

void TraceSource::fill(Epoch& e) {
  e.count.assign(vpns_.size(), 0);
  e.accessed.assign(vpns_.size(), 0);
  for (const auto& [id, c] : byEpoch_[e.index]) {
    e.count[id] += c;
    e.accessed[id] = e.count[id] > 0;
  }
  e.hot = nullptr;
  e.hotPages = 0;
  e.shiftedHere = false;
}

}  // namespace htier::sim

// SPDX-License-Identifier: GPL-2.0
// Access streams for the simulator: the gups workload models (hotset,
// scattered, uniform, zipf, with an optional hot-set shift) and recorded
// traces ("t_ms vpn count" lines).  A stream is cut into epochs, the
// interval at which the module scans accessed bits.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace htier::sim {

// What happened to every page in one epoch.
struct Epoch {
  uint64_t index = 0;
  // Accesses per page: expected counts for a model, recorded ones for a trace.
  std::vector<double> count;
  // Whether the page's accessed bit would be set when the epoch's scan runs.
  std::vector<uint8_t> accessed;
  // The pages that form the hot set now (models only; empty for traces).
  const std::vector<uint8_t>* hot = nullptr;
  uint64_t hotPages = 0;
  bool shiftedHere = false;  // the hot set moved at the start of this epoch
};

class AccessSource {
 public:
  virtual ~AccessSource() = default;
  virtual uint64_t pages() const = 0;
  virtual uint64_t epochs() const = 0;
  // Fills @e with epoch @e.index; called with indexes 0, 1, 2, ...
  virtual void fill(Epoch& e) = 0;
  virtual std::string describe() const = 0;
};

enum class Model { Hotset, Scattered, Uniform, Zipf };

std::optional<Model> parseModel(const std::string& name);
const char* modelName(Model m);

struct ModelParams {
  Model model = Model::Hotset;
  uint64_t sizeBytes = 512ULL << 20;
  uint64_t hotBytes = 64ULL << 20;
  double weight = 9;
  double zipfTheta = 0.99;
  double updatesPerSecond = 2e6;
  double epochMs = 500;
  double durationS = 60;
  double shiftAtS = -1;  // < 0: no shift
  uint64_t seed = 1;
};

// The gups workload, as rates per page: a hot page gets weight x the
// updates of a cold one; a page's accesses in an epoch are Poisson, so its
// accessed bit is set with probability 1 - exp(-expected count).
class ModelSource : public AccessSource {
 public:
  explicit ModelSource(const ModelParams& p);
  uint64_t pages() const override { return nrPages_; }
  uint64_t epochs() const override { return nrEpochs_; }
  void fill(Epoch& e) override;
  std::string describe() const override;
  // Expected accesses to page @page in one epoch of generation @gen.
  double expectedCount(uint64_t page, uint32_t gen) const;

 private:
  void buildGeneration(uint32_t gen);
  uint64_t rankPage(uint64_t rank, uint32_t gen) const;

  ModelParams p_;
  uint64_t nrPages_ = 0;
  uint64_t nrHot_ = 0;
  uint64_t nrEpochs_ = 0;
  uint64_t shiftEpoch_ = UINT64_MAX;
  std::vector<uint32_t> perm_;     // rank -> page (scattered, zipf)
  std::vector<double> rankCount_;  // expected accesses per epoch, by rank
  // Current generation, cached.
  uint32_t gen_ = UINT32_MAX;
  std::vector<double> count_;
  std::vector<double> pAccess_;
  std::vector<uint8_t> hot_;
  uint64_t rng_;
};

// A recorded trace: text lines "t_ms vpn count" (see README.md).
class TraceSource : public AccessSource {
 public:
  // Throws std::runtime_error with the file and line on a malformed line.
  TraceSource(const std::string& path, double epochMs);
  // For tests: parse from a string.
  static std::unique_ptr<TraceSource> fromString(const std::string& text,
                                                 double epochMs);
  uint64_t pages() const override { return vpns_.size(); }
  uint64_t epochs() const override { return byEpoch_.size(); }
  void fill(Epoch& e) override;
  std::string describe() const override { return describe_; }

 private:
  TraceSource() = default;
  void parse(std::istream& in, const std::string& name, double epochMs);

  std::vector<uint64_t> vpns_;  // dense page id -> vpn
  // Per epoch: (page id, count) pairs.
  std::vector<std::vector<std::pair<uint32_t, double>>> byEpoch_;
  std::string describe_;
};

}  // namespace htier::sim
